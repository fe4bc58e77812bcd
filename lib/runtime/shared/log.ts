/**
 * Structured JSON logging for the Lambda handlers: one JSON object per line, so CloudWatch Logs
 * Insights can filter on any field. Never log secrets or image bytes.
 */
export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

const ORDER: Record<LogLevel | 'SILENT', number> = { DEBUG: 10, INFO: 20, WARN: 30, ERROR: 40, SILENT: 100 };

function threshold(): number {
  const wanted = (process.env.LOG_LEVEL ?? 'INFO').toUpperCase() as LogLevel | 'SILENT';
  return ORDER[wanted] ?? ORDER.INFO;
}

export function log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
  if (ORDER[level] < threshold()) {
    return;
  }
  const line = JSON.stringify({ timestamp: new Date().toISOString(), level, message, ...fields }, errorReplacer);
  if (level === 'ERROR') {
    console.error(line);
  } else {
    console.log(line);
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) {
    return { name: value.name, message: value.message };
  }
  return value;
}
