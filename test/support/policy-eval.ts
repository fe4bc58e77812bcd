/**
 * A small evaluator of the identity policies in a synthesized template: which of a role's Allow
 * statements (with their conditions) let a request through, IAM's way for the parts this library
 * uses: Action and Resource with `*` / `?` wildcards (actions case-insensitive), and the condition
 * operators StringEquals, StringLike, ArnLike, ArnEquals (a key missing from the request fails
 * them), Null ("true": the key is missing) and ForAllValues:StringLike (a missing key passes). Anything else fails the test loudly,
 * so a statement this evaluator cannot judge is never taken as allowing or refusing.
 */

export interface PolicyRequest {
  readonly action: string;
  readonly resource: string;
  /** The resource's tags (aws:ResourceTag/<key>). */
  readonly resourceTags?: Record<string, string>;
  /** Other request context keys. */
  readonly context?: Record<string, string>;
}

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action?: string | string[];
  readonly Resource?: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
  readonly NotAction?: unknown;
  readonly NotResource?: unknown;
}

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::URLSuffix': 'amazonaws.com', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '111111111111', 'AWS::NoValue': '' };

/** Resolves the intrinsics of a template value into text: references become `ref:<id>` / `getatt:<id>.<attr>`. */
export function resolve(value: any): any {
  if (Array.isArray(value)) {
    return value.map(resolve);
  }
  if (value && typeof value === 'object') {
    if ('Ref' in value) {
      return PSEUDO[value.Ref] ?? `ref:${value.Ref}`;
    }
    if ('Fn::GetAtt' in value) {
      return `getatt:${[value['Fn::GetAtt']].flat().join('.')}`;
    }
    if ('Fn::Join' in value) {
      const [sep, parts] = value['Fn::Join'];
      return resolve(parts).join(sep);
    }
    if ('Fn::ImportValue' in value) {
      return `import:${JSON.stringify(value['Fn::ImportValue'])}`;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
  }
  return value;
}

function glob(pattern: string, text: string, ignoreCase = false): boolean {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, ignoreCase ? 'i' : '');
  return re.test(text);
}

function contextValue(request: PolicyRequest, key: string): string | undefined {
  const tag = /^aws:ResourceTag\/(.+)$/i.exec(key);
  if (tag) {
    return request.resourceTags?.[tag[1]];
  }
  return request.context?.[key];
}

function conditionHolds(condition: Statement['Condition'], request: PolicyRequest): boolean {
  for (const [operator, entries] of Object.entries(condition ?? {})) {
    for (const [key, expected] of Object.entries(entries)) {
      const values = [expected].flat();
      const actual = contextValue(request, key);
      switch (operator) {
        case 'StringEquals':
        case 'ArnEquals':
          if (actual === undefined || !values.includes(actual)) {
            return false;
          }
          break;
        case 'StringLike':
        case 'ArnLike':
          if (actual === undefined || !values.some((v) => glob(v, actual))) {
            return false;
          }
          break;
        case 'Null':
          // "true": the key is absent from the request; "false": it is present
          if ((actual === undefined) !== (String(values[0]) === 'true')) {
            return false;
          }
          break;
        case 'ForAllValues:StringLike':
          if (actual !== undefined && !values.some((v) => glob(v, actual))) {
            return false;
          }
          break;
        default:
          throw new Error(`policy-eval: condition operator ${operator} is not modelled`);
      }
    }
  }
  return true;
}

/** Whether the statement matches the request (action, resource and conditions). */
export function matches(statement: Statement, request: PolicyRequest): boolean {
  if (statement.NotAction !== undefined || statement.NotResource !== undefined) {
    throw new Error(`policy-eval: NotAction/NotResource (statement ${statement.Sid ?? ''}) is not modelled`);
  }
  const actions = [statement.Action ?? []].flat();
  const resources = [statement.Resource ?? []].flat();
  return actions.some((a) => glob(a, request.action, true)) && resources.some((r) => glob(r, request.resource)) && conditionHolds(statement.Condition, request);
}

/** IAM's identity-policy answer: some Allow matches and no Deny does. */
export function allows(statements: Statement[], request: PolicyRequest): boolean {
  return statements.some((s) => s.Effect === 'Allow' && matches(s, request)) && !statements.some((s) => s.Effect === 'Deny' && matches(s, request));
}

/** Every statement of the identity policies (AWS::IAM::Policy and inline role policies) attached to the role `roleLogicalId`, resolved. */
export function roleStatements(template: any, roleLogicalId: string): Statement[] {
  const out: Statement[] = [];
  for (const resource of Object.values<any>(template.Resources ?? {})) {
    if (resource.Type === 'AWS::IAM::Policy' && [resource.Properties.Roles ?? []].flat().some((r: any) => r?.Ref === roleLogicalId)) {
      out.push(...resolve(resource.Properties.PolicyDocument).Statement);
    }
  }
  const role = template.Resources?.[roleLogicalId];
  for (const inline of role?.Properties?.Policies ?? []) {
    out.push(...resolve(inline.PolicyDocument).Statement);
  }
  return out;
}

/** The resolved tags of a resource of the template, as a map. */
export function tagsOf(template: any, logicalId: string): Record<string, string> {
  const tags = resolve(template.Resources[logicalId].Properties.Tags ?? []) as Array<{ Key: string; Value: string }>;
  return Object.fromEntries(tags.map((t) => [t.Key, t.Value]));
}
