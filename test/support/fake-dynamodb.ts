/**
 * A local DynamoDB endpoint (AWS JSON 1.0, `DynamoDB_20120810.*`) for PutItem, UpdateItem,
 * DeleteItem, GetItem and BatchWriteItem on single-key tables, with condition expressions evaluated
 * for real: comparisons (= <> < <= > >=), AND, OR, NOT, parentheses, attribute_exists /
 * attribute_not_exists, and `SET a = :v, ...` update expressions (ReturnValues NONE or ALL_NEW). Requests are handled one at a
 * time, so conditional writes are atomic as in the service. `ReturnValuesOnConditionCheckFailure:
 * 'ALL_OLD'` returns the stored item in the ConditionalCheckFailedException's `Item`, as DynamoDB
 * does. BatchWriteItem takes `RequestItems` (table -> PutRequest / DeleteRequest, at most 25 in all,
 * no key twice) and answers with `UnprocessedItems`; `leaveUnprocessed(n)` makes the next n write
 * requests come back unprocessed (once each), as a throttled partition does.
 */
import { ApiError, AwsJsonServer } from './aws-json-server';

type AttributeValue = { S?: string; N?: string; BOOL?: boolean; NULL?: boolean };
type Item = Record<string, AttributeValue>;

export class FakeDynamoDb extends AwsJsonServer {
  /** table name -> partition key value -> item */
  public readonly tables = new Map<string, Map<string, Item>>();

  /** The item a failed condition returns (ALL_OLD), for the error reply of the request being handled. */
  private conditionFailureItem?: Item;

  /** Called with each request before it is handled (e.g. to move a test's clock at a chosen call). */
  public onRequest?: (operation: string, body: Record<string, any>) => void;

  /** How many of the next BatchWriteItem write requests are returned unprocessed. */
  private unprocessed = 0;

  constructor(private readonly keyName = 'pk') {
    super('DynamoDB_20120810', 'application/x-amz-json-1.0', 'dynamodb');
    // AwsJsonServer answers errors with { __type, message }; DynamoDB adds `Item` to a
    // ConditionalCheckFailedException asked for with ReturnValuesOnConditionCheckFailure ALL_OLD.
    // Requests are handled one at a time (dispatch, then its reply), so the field belongs to this reply.
    const self = this as unknown as { reply: (res: unknown, status: number, body: Record<string, unknown>, errorType?: string) => void };
    const reply = self.reply.bind(this);
    self.reply = (res, status, body, errorType) => {
      const item = this.conditionFailureItem;
      this.conditionFailureItem = undefined;
      reply(res, status, errorType === 'ConditionalCheckFailedException' && item ? { ...body, Item: item } : body, errorType);
    };
  }

  public reset(): void {
    super.reset();
    this.tables.clear();
    this.unprocessed = 0;
    this.onRequest = undefined;
  }

  /**
   * The next `count` write requests that BatchWriteItem calls carry are not applied but returned in
   * `UnprocessedItems` (in request order, across calls); a request sent again afterwards is applied.
   */
  public leaveUnprocessed(count: number): void {
    this.unprocessed += count;
  }

  public items(table: string): Item[] {
    return [...(this.tables.get(table)?.values() ?? [])];
  }

  private table(name: unknown): Map<string, Item> {
    if (typeof name !== 'string' || !name) {
      throw new ApiError('ValidationException', 'TableName is required');
    }
    let table = this.tables.get(name);
    if (!table) {
      table = new Map();
      this.tables.set(name, table);
    }
    return table;
  }

  private keyOf(key: Item | undefined): string {
    const value = key?.[this.keyName]?.S;
    if (value === undefined) {
      throw new ApiError('ValidationException', `The provided key element does not match the schema (${this.keyName} S required)`);
    }
    return value;
  }

  protected dispatch(operation: string, body: Record<string, any>): unknown {
    this.onRequest?.(operation, body);
    if (operation === 'BatchWriteItem') {
      return this.batchWrite(body);
    }
    const table = this.table(body.TableName);
    const values: Item = body.ExpressionAttributeValues ?? {};
    const names: Record<string, string> = body.ExpressionAttributeNames ?? {};
    const returnOld = body.ReturnValuesOnConditionCheckFailure ?? 'NONE';
    if (returnOld !== 'NONE' && returnOld !== 'ALL_OLD') {
      throw new ApiError('ValidationException', `ReturnValuesOnConditionCheckFailure must be NONE or ALL_OLD, got ${returnOld}`);
    }
    this.conditionFailureItem = undefined;
    const check = (item: Item | undefined) => {
      try {
        this.check(body.ConditionExpression, item, values, names);
      } catch (error) {
        if (returnOld === 'ALL_OLD' && item && error instanceof ApiError && error.type === 'ConditionalCheckFailedException') {
          this.conditionFailureItem = { ...item };
        }
        throw error;
      }
    };
    switch (operation) {
      case 'PutItem': {
        const key = this.keyOf(body.Item);
        check(table.get(key));
        table.set(key, { ...body.Item });
        return {};
      }
      case 'UpdateItem': {
        const key = this.keyOf(body.Key);
        const existing = table.get(key);
        check(existing);
        const item: Item = { ...(existing ?? body.Key) };
        const set = /^\s*SET\s+(.+)$/i.exec(body.UpdateExpression ?? '');
        if (!set) {
          throw new ApiError('ValidationException', `only SET update expressions are supported by the fake: ${body.UpdateExpression}`);
        }
        for (const assignment of set[1].split(',')) {
          const [path, value] = assignment.split('=').map((x) => x.trim());
          item[names[path] ?? path] = this.value(value, values);
        }
        table.set(key, item);
        const returnValues = body.ReturnValues ?? 'NONE';
        if (returnValues !== 'NONE' && returnValues !== 'ALL_NEW') {
          throw new ApiError('ValidationException', `the fake answers ReturnValues NONE or ALL_NEW, got ${returnValues}`);
        }
        return returnValues === 'ALL_NEW' ? { Attributes: { ...item } } : {};
      }
      case 'DeleteItem': {
        const key = this.keyOf(body.Key);
        check(table.get(key));
        table.delete(key);
        return {};
      }
      case 'GetItem': {
        const item = table.get(this.keyOf(body.Key));
        return item ? { Item: item } : {};
      }
      default:
        throw new ApiError('UnknownOperationException', `operation ${operation} is not implemented by the fake`);
    }
  }

  /** BatchWriteItem: validated as a whole first (nothing is written when it is invalid), then each request, unconditionally. */
  private batchWrite(body: Record<string, any>): unknown {
    const requestItems: Record<string, Array<Record<string, any>>> | undefined = body.RequestItems;
    if (!requestItems || typeof requestItems !== 'object' || Object.keys(requestItems).length === 0) {
      throw new ApiError('ValidationException', "1 validation error detected: Value null at 'requestItems' failed to satisfy constraint: Member must not be null");
    }
    const writes: Array<{ table: string; request: Record<string, any>; key: string; item?: Item }> = [];
    for (const [name, requests] of Object.entries(requestItems)) {
      if (!Array.isArray(requests) || requests.length < 1 || requests.length > 25) {
        throw new ApiError(
          'ValidationException',
          `1 validation error detected: Value at 'requestItems' failed to satisfy constraint: Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]`,
        );
      }
      const seen = new Set<string>();
      for (const request of requests) {
        const put = request?.PutRequest;
        const del = request?.DeleteRequest;
        if ((put === undefined) === (del === undefined)) {
          throw new ApiError('ValidationException', '1 validation error detected: a WriteRequest must have exactly one of PutRequest and DeleteRequest');
        }
        const key = put ? this.keyOf(put.Item) : this.keyOf(del.Key);
        if (seen.has(key)) {
          throw new ApiError('ValidationException', 'Provided list of item keys contains duplicates');
        }
        seen.add(key);
        writes.push({ table: name, request, key, item: put ? { ...put.Item } : undefined });
      }
    }
    if (writes.length > 25) {
      throw new ApiError('ValidationException', 'Too many items requested for the BatchWriteItem call');
    }
    const unprocessed: Record<string, Array<Record<string, any>>> = {};
    for (const write of writes) {
      if (this.unprocessed > 0) {
        this.unprocessed -= 1;
        (unprocessed[write.table] ??= []).push(write.request);
        continue;
      }
      const table = this.table(write.table);
      if (write.item) {
        table.set(write.key, write.item);
      } else {
        table.delete(write.key);
      }
    }
    return { UnprocessedItems: unprocessed };
  }

  private value(token: string, values: Item): AttributeValue {
    const v = values[token];
    if (!v) {
      throw new ApiError('ValidationException', `An expression attribute value used in expression is not defined; attribute value: ${token}`);
    }
    return v;
  }

  private check(expression: string | undefined, item: Item | undefined, values: Item, names: Record<string, string>): void {
    if (!expression) {
      return;
    }
    if (!new ConditionParser(expression, item, values, names).evaluate()) {
      throw new ApiError('ConditionalCheckFailedException', 'The conditional request failed');
    }
  }
}

/** Recursive descent over: expr := and (OR and)*; and := unary (AND unary)*; unary := NOT unary | primary. */
class ConditionParser {
  private readonly tokens: string[];
  private pos = 0;

  constructor(expression: string, private readonly item: Item | undefined, private readonly values: Item, private readonly names: Record<string, string>) {
    this.tokens = expression.match(/\(|\)|<>|<=|>=|=|<|>|,|[#:]?[A-Za-z_][A-Za-z0-9_]*/g) ?? [];
  }

  public evaluate(): boolean {
    const result = this.or();
    if (this.pos !== this.tokens.length) {
      throw new ApiError('ValidationException', `Invalid ConditionExpression near "${this.tokens[this.pos]}"`);
    }
    return result;
  }

  private peek(): string | undefined {
    return this.tokens[this.pos];
  }

  private next(): string {
    const token = this.tokens[this.pos++];
    if (token === undefined) {
      throw new ApiError('ValidationException', 'Invalid ConditionExpression: unexpected end');
    }
    return token;
  }

  private or(): boolean {
    let result = this.and();
    while (this.peek()?.toUpperCase() === 'OR') {
      this.next();
      const right = this.and();
      result = result || right;
    }
    return result;
  }

  private and(): boolean {
    let result = this.unary();
    while (this.peek()?.toUpperCase() === 'AND') {
      this.next();
      const right = this.unary();
      result = result && right;
    }
    return result;
  }

  private unary(): boolean {
    if (this.peek()?.toUpperCase() === 'NOT') {
      this.next();
      return !this.unary();
    }
    if (this.peek() === '(') {
      this.next();
      const result = this.or();
      this.expect(')');
      return result;
    }
    const first = this.next();
    if (first === 'attribute_exists' || first === 'attribute_not_exists') {
      this.expect('(');
      const path = this.path(this.next());
      this.expect(')');
      const exists = this.item !== undefined && this.item[path] !== undefined;
      return first === 'attribute_exists' ? exists : !exists;
    }
    const left = this.operand(first);
    const op = this.next();
    const right = this.operand(this.next());
    return compare(left, op, right);
  }

  private expect(token: string): void {
    const got = this.next();
    if (got !== token) {
      throw new ApiError('ValidationException', `Invalid ConditionExpression: expected "${token}", got "${got}"`);
    }
  }

  private path(token: string): string {
    return token.startsWith('#') ? this.names[token] : token;
  }

  private operand(token: string): AttributeValue | undefined {
    if (token.startsWith(':')) {
      const v = this.values[token];
      if (!v) {
        throw new ApiError('ValidationException', `An expression attribute value used in expression is not defined; attribute value: ${token}`);
      }
      return v;
    }
    return this.item?.[this.path(token)];
  }
}

function compare(a: AttributeValue | undefined, op: string, b: AttributeValue | undefined): boolean {
  if (a === undefined || b === undefined) {
    return op === '<>' ? a !== b : false; // comparisons with a missing attribute are false
  }
  const x = a.N !== undefined ? Number(a.N) : a.S ?? a.BOOL;
  const y = b.N !== undefined ? Number(b.N) : b.S ?? b.BOOL;
  switch (op) {
    case '=':
      return x === y;
    case '<>':
      return x !== y;
    case '<':
      return (x as number) < (y as number);
    case '<=':
      return (x as number) <= (y as number);
    case '>':
      return (x as number) > (y as number);
    case '>=':
      return (x as number) >= (y as number);
    default:
      throw new ApiError('ValidationException', `Invalid ConditionExpression: unknown operator ${op}`);
  }
}
