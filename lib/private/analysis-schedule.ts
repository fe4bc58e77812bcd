/**
 * A camera's analysis schedule (the public AnalysisSchedule) as the engines take it, and its
 * synth-time validation: used by Camera and by both engines.
 */
import { Token } from 'aws-cdk-lib';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { show } from './validate';

/** Start and stop expressions of a camera's analysis (AnalysisSchedule). */
export interface ScheduleExpressions {
  readonly start: scheduler.ScheduleExpression;
  readonly stop: scheduler.ScheduleExpression;
}

const CRON_FIELD = /^[0-9A-Za-z*?,/\-#]+$/;
const RATE = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const AT = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/;
const EXAMPLES = 'cron(0 7 ? * MON-FRI *) (six fields: minutes hours day-of-month month day-of-week year), rate(12 hours) or at(2027-01-31T07:00:00)';

/** Why an EventBridge Scheduler expression is not one, or undefined when it is. */
function expressionProblem(expression: string): string | undefined {
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6) {
      return `a cron expression has 6 fields, this one has ${fields.length}`;
    }
    const bad = fields.find((field) => !CRON_FIELD.test(field));
    if (bad !== undefined) {
      return `the cron field ${show(bad)} has characters cron does not allow`;
    }
    if (fields[2] !== '?' && fields[4] !== '?') {
      return 'one of day-of-month (field 3) and day-of-week (field 5) must be "?"';
    }
    return undefined;
  }
  const rate = RATE.exec(expression);
  if (rate) {
    const value = Number(rate[1]);
    if (value < 1) {
      return 'a rate must be at least 1';
    }
    if ((value === 1) !== !rate[2].endsWith('s')) {
      return `write rate(1 ${rate[2].replace(/s$/, '')}) for one, rate(${value} ${rate[2].replace(/s?$/, 's')}) for more`;
    }
    return undefined;
  }
  const at = AT.exec(expression);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number);
    const date = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    if (date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
      return 'the date or time of at() does not exist';
    }
    return undefined;
  }
  return 'it is not cron(...), rate(...) or at(...)';
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/** Checks a schedule's expressions and time zones before anything is built. */
export function validateSchedule(schedule: ScheduleExpressions): void {
  for (const [prop, value] of [
    ['schedule.start', schedule.start],
    ['schedule.stop', schedule.stop],
  ] as const) {
    if (!value || typeof value.expressionString !== 'string') {
      throw new Error(`${prop} must be a scheduler.ScheduleExpression, e.g. ScheduleExpression.cron({ hour: '7', weekDay: 'MON-FRI' })`);
    }
    const expression = value.expressionString;
    if (!Token.isUnresolved(expression)) {
      const problem = expressionProblem(expression);
      if (problem) {
        throw new Error(`${prop} must be an EventBridge Scheduler expression such as ${EXAMPLES}; got ${show(expression)}: ${problem}`);
      }
    }
    const zone = value.timeZone?.timezoneName;
    if (zone !== undefined && !Token.isUnresolved(zone) && !isTimeZone(zone)) {
      throw new Error(`${prop} has the time zone ${show(zone)}, which is not an IANA time zone name such as "Europe/Paris" or "UTC"`);
    }
  }
}
