// ISO times as `toISOString` writes them, to ms since the epoch and back, for jobs kept compact (`stored-job.ts`).

/**
 * -1 stands for null; undefined when the text is not an ISO time as `toISOString` writes it (it would not read
 * back the same). Read digit by digit: a start reads 400,000 times for 100,000 jobs.
 */
export function toMs(time: string | null): number | undefined {
  if (time === null) return -1;
  if (time.length !== 24 || time[4] !== '-' || time[7] !== '-' || time[10] !== 'T' || time[13] !== ':' || time[16] !== ':' || time[19] !== '.' || time[23] !== 'Z') return undefined;
  const year = digits(time, 0, 4);
  const month = digits(time, 5, 2);
  const day = digits(time, 8, 2);
  const hour = digits(time, 11, 2);
  const minute = digits(time, 14, 2);
  const second = digits(time, 17, 2);
  const ms = digits(time, 20, 3);
  if (year < 1970 || month < 1 || month > 12 || day < 1 || day > daysIn(year, month) || hour > 23 || minute > 59 || second > 59 || ms < 0) return undefined;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

/** The number written with `count` digits from `at`; -1 when one is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const digit = text.charCodeAt(i) - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
  }
  return value;
}

function daysIn(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

export function fromMs(ms: number): string | null {
  return ms < 0 ? null : new Date(ms).toISOString();
}
