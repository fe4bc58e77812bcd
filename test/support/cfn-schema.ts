/**
 * Checks synthesized CloudFormation templates against CloudFormation's resource provider schemas,
 * offline, with AWS's own validator (`@aws/cloudformation-validate`: the provider schemas of every
 * Region and cfn-lint's schema rules, bundled in a WebAssembly build; no network, no credentials).
 *
 * Every resource's Properties are checked for unknown properties, missing required properties,
 * types, enums, patterns, lengths, numeric bounds, array sizes, oneOf/anyOf/dependencies, and the
 * resource type's availability in the Region; a value that is an intrinsic function (Ref,
 * Fn::GetAtt, Fn::Join, Fn::Sub, ...) is accepted where the schema wants a literal. cfn-lint's
 * template rules run too (references to missing resources or parameters, blocked Lambda runtimes,
 * malformed intrinsics ...). Custom resources have no schema: only their ServiceToken is checked.
 * A resource type the validator has no schema for is a finding, unless allow-listed with a reason.
 */
import { readFileSync, readdirSync } from 'node:fs';
import * as path from 'node:path';
import { RegoEngine, TemplateFile } from '@aws/cloudformation-validate';
import type { Engine, StandardDiagnostic } from '@aws/cloudformation-validate';
import * as cxapi from 'aws-cdk-lib/cx-api';

/** The Region a template is checked in when its stack has none (an environment-agnostic stack). */
export const DEFAULT_REGION = 'us-east-1';

/**
 * Rules whose findings are not failures, with the reason. Everything else at WARN or above fails.
 */
export const IGNORED_RULES: Readonly<Record<string, string>> = {
  W3005:
    'a DependsOn that a GetAtt already implies: aws-cdk-lib adds DependsOn on the role\'s default policy resource and its role for every Lambda function, so the function is created after its permissions; redundant, harmless',
};

/**
 * Resource types with no CloudFormation schema that are nonetheless accepted, with the reason.
 * Empty: every type the library synthesizes has a schema (AWS::CDK::Metadata included).
 */
export const TYPES_WITHOUT_SCHEMA: Readonly<Record<string, string>> = {};

export interface CfnFinding {
  /** The template's file name in the cloud assembly. */
  readonly template: string;
  readonly region: string;
  readonly resource?: string;
  readonly resourceType?: string;
  /** e.g. `Properties.Environment.Variables`. */
  readonly path?: string;
  /** The validator's rule id (F3002 unknown property, F3003 required, F3012 type, W3030 enum, F3031 pattern, ...), or CUSTOM1 for a custom resource without ServiceToken. */
  readonly rule: string;
  readonly severity: string;
  readonly message: string;
}

export interface CfnTemplateReport {
  readonly template: string;
  readonly region: string;
  /** Resources in the template, by type. */
  readonly resourceTypes: Readonly<Record<string, number>>;
  readonly findings: CfnFinding[];
}

export interface CfnCheckerOptions {
  /** Types accepted without a schema (type → reason). Default: TYPES_WITHOUT_SCHEMA. */
  readonly typesWithoutSchema?: Readonly<Record<string, string>>;
  /** Rules whose findings are ignored (rule id → reason). Default: IGNORED_RULES. */
  readonly ignoredRules?: Readonly<Record<string, string>>;
}

const isCustomResource = (type: string) => type.startsWith('Custom::') || type === 'AWS::CloudFormation::CustomResource';

/** One validator engine (about 3 s to build), reused for every template; call dispose() when done. */
export class CfnSchemaChecker {
  private readonly engine: Engine;
  private readonly typesWithoutSchema: Readonly<Record<string, string>>;
  private readonly ignoredRules: Readonly<Record<string, string>>;
  private provenanceText?: string;

  constructor(options: CfnCheckerOptions = {}) {
    this.engine = new RegoEngine();
    this.typesWithoutSchema = options.typesWithoutSchema ?? TYPES_WITHOUT_SCHEMA;
    this.ignoredRules = options.ignoredRules ?? IGNORED_RULES;
  }

  /**
   * Checks one template (its JSON text or parsed object), named `name` in findings. `options`
   * override the checker's allow-lists for this call.
   */
  public checkTemplate(name: string, template: string | object, region: string = DEFAULT_REGION, options: CfnCheckerOptions = {}): CfnTemplateReport {
    const text = typeof template === 'string' ? template : JSON.stringify(template, undefined, 1);
    const parsed = (typeof template === 'string' ? JSON.parse(template) : template) as { Resources?: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const resources = parsed.Resources ?? {};
    const resourceTypes: Record<string, number> = {};
    const findings: CfnFinding[] = [];

    for (const [logicalId, resource] of Object.entries(resources)) {
      resourceTypes[resource.Type] = (resourceTypes[resource.Type] ?? 0) + 1;
      if (isCustomResource(resource.Type)) {
        const token = resource.Properties?.ServiceToken;
        if (token === undefined || token === null || token === '') {
          findings.push({ template: name, region, resource: logicalId, resourceType: resource.Type, path: 'Properties.ServiceToken', rule: 'CUSTOM1', severity: 'FATAL', message: 'a custom resource needs a ServiceToken (the ARN of its provider\'s Lambda function or SNS topic)' });
        }
      }
    }

    const bytes = Buffer.from(text, 'utf8');
    // an in-memory TemplateFile: the engine only calls readBytes() and reads path for its report
    const file: TemplateFile = { path: name, readBytes: () => bytes };
    const report = this.engine.validateStandard(file, { severityLevel: 'WARN', pseudoParameterOverrides: { region } });
    if (report.status !== 'OK') {
      findings.push({ template: name, region, rule: 'STATUS', severity: 'FATAL', message: `the validator did not complete its analysis (status ${report.status}): findings may be missing` });
    }
    for (const d of report.diagnostics) {
      const finding = this.toFinding(name, region, d, { typesWithoutSchema: options.typesWithoutSchema ?? this.typesWithoutSchema, ignoredRules: options.ignoredRules ?? this.ignoredRules });
      if (finding) {
        findings.push(finding);
      }
    }
    return { template: name, region, resourceTypes, findings };
  }

  /**
   * Checks every template of a synthesized cloud assembly: each stack's template and its nested
   * stacks' templates (`*.nested.template.json`, found through the stack's asset manifest), each in
   * its stack's Region (DEFAULT_REGION for an environment-agnostic stack). Any other
   * `*.template.json` in the assembly directory is checked in DEFAULT_REGION, so none is skipped.
   */
  public checkAssembly(assembly: cxapi.CloudAssembly): CfnTemplateReport[] {
    return assemblyTemplates(assembly).map(({ file, region }) => this.checkTemplate(path.relative(assembly.directory, file), readFileSync(file, 'utf8'), region));
  }

  /** The validator's version and the versions of the provider schemas and cfn-lint rules it bundles. */
  public provenance(): string {
    if (!this.provenanceText) {
      const bytes = Buffer.from('{"Resources":{}}', 'utf8');
      const report = this.engine.validateStandard({ path: 'empty.json', readBytes: () => bytes });
      this.provenanceText = `@aws/cloudformation-validate ${report.version}, schemas ${report.metadata.resourceSchemaVersion}, rules ${report.metadata.cfnLintVersion}`;
    }
    return this.provenanceText;
  }

  /** The findings, one per line, under the validator's provenance; '' when there is none. */
  public describe(findings: readonly CfnFinding[]): string {
    return findings.length === 0 ? '' : `${this.provenance()}\n${formatFindings(findings)}`;
  }

  public dispose(): void {
    this.engine.free();
  }

  private toFinding(template: string, region: string, d: StandardDiagnostic, lists: Required<CfnCheckerOptions>): CfnFinding | undefined {
    if (d.severity === 'INFO' || d.severity === 'DEBUG' || d.ruleId in lists.ignoredRules) {
      return undefined;
    }
    const resourceType = d.entity?.resourceType;
    const base = { template, region, resource: d.entity?.logicalId, resourceType, path: d.propertyPath, rule: d.ruleId, severity: d.severity };
    if (d.ruleId === 'F3006' && resourceType && /^Unknown resource type/.test(d.message)) {
      if (resourceType in lists.typesWithoutSchema) {
        return undefined;
      }
      return {
        ...base,
        message: `no CloudFormation resource schema for ${resourceType}: a new resource type? Check it deploys, and if the validator's schemas lag behind, add it to TYPES_WITHOUT_SCHEMA (test/support/cfn-schema.ts) with the reason`,
      };
    }
    return { ...base, message: d.message };
  }
}

/**
 * Every template of a synthesized cloud assembly with the Region it deploys in: each stack's template
 * and its nested stacks' templates (`*.nested.template.json`, found through the stack's asset
 * manifest) in its stack's Region (DEFAULT_REGION for an environment-agnostic stack). Any other
 * `*.template.json` in the assembly directory comes in DEFAULT_REGION, so none is skipped. Sorted by
 * absolute file path.
 */
export function assemblyTemplates(assembly: cxapi.CloudAssembly): Array<{ file: string; region: string }> {
  const regionOf = new Map<string, string>();
  for (const stack of assembly.stacksRecursively) {
    const region = stack.environment.region === cxapi.UNKNOWN_REGION ? DEFAULT_REGION : stack.environment.region;
    regionOf.set(path.resolve(stack.templateFullPath), region);
    for (const dependency of stack.dependencies) {
      if (cxapi.AssetManifestArtifact.isAssetManifestArtifact(dependency)) {
        const manifest = JSON.parse(readFileSync(dependency.file, 'utf8')) as { files?: Record<string, { source: { path?: string } }> };
        for (const asset of Object.values(manifest.files ?? {})) {
          if (asset.source.path?.endsWith('.template.json')) {
            regionOf.set(path.resolve(path.dirname(dependency.file), asset.source.path), region);
          }
        }
      }
    }
  }
  const files = new Set([...templateFiles(assembly.directory), ...regionOf.keys()]);
  return [...files].sort().map((file) => ({ file, region: regionOf.get(file) ?? DEFAULT_REGION }));
}

/** The `*.template.json` files (stacks' and nested stacks') directly in an assembly directory and its nested assemblies. */
function templateFiles(directory: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const full = path.resolve(directory, entry.name);
    if (entry.isDirectory() && entry.name.startsWith('assembly-')) {
      found.push(...templateFiles(full));
    } else if (entry.isFile() && entry.name.endsWith('.template.json')) {
      found.push(full);
    }
  }
  return found;
}

/** One line per finding, for a failing test's message. */
export function formatFindings(findings: readonly CfnFinding[]): string {
  return findings
    .map((f) => `${f.template} [${f.region}] ${f.resource ?? '-'} (${f.resourceType ?? '-'}) ${f.path ?? ''}: ${f.rule} ${f.severity}: ${f.message}`)
    .join('\n');
}
