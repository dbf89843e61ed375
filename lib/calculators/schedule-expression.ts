/**
 * EventBridge Scheduler's recurring expressions, checked at synth so a bad one never reaches AWS:
 *   rate(<n> minute|minutes|hour|hours|day|days)
 *   cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)
 * Cron fields take `,` `-` `*` `/`, month and weekday names (JAN–DEC, SUN–SAT), `L` and `W` in the day of
 * the month, `L` and `#` in the day of the week; one of the two day fields must be `?`. Pure functions.
 */

/** A problem with an expression, as a setting error states it; undefined when the expression is valid. */
export function scheduleProblem(expression: string): string | undefined {
  const rate = /^rate\((.*)\)$/.exec(expression);
  if (rate) return rateProblem(rate[1]);
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) return cronProblem(cron[1]);
  if (/^at\(/.test(expression)) return "a one-time at() expression, but a job recurs";
  return "neither rate(...) nor cron(...)";
}

function rateProblem(body: string): string | undefined {
  const m = /^(\d+) (minute|minutes|hour|hours|day|days)$/.exec(body.trim() === body ? body : "");
  if (!m) return `"${body}" is not "<number> <unit>" with a unit of minutes, hours or days`;
  const n = Number(m[1]);
  if (n < 1) return "the rate must be 1 or more";
  if (n === 1 && m[2].endsWith("s")) return `a rate of 1 takes the singular unit ("1 ${m[2].slice(0, -1)}")`;
  if (n > 1 && !m[2].endsWith("s")) return `a rate above 1 takes the plural unit ("${n} ${m[2]}s")`;
  return undefined;
}

const MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"];
const DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];

interface Field {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly names?: readonly string[];
}
const FIELDS: readonly Field[] = [
  { name: "minutes", min: 0, max: 59 },
  { name: "hours", min: 0, max: 23 },
  { name: "day-of-month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day-of-week", min: 1, max: 7, names: DAYS },
  { name: "year", min: 1970, max: 2199 },
];

function cronProblem(body: string): string | undefined {
  const parts = body.split(" ");
  if (parts.length !== 6 || parts.some((p) => p === ""))
    return `${parts.filter(Boolean).length} fields, but a cron expression has 6 (minutes hours day-of-month month day-of-week year), one space apart`;
  const [dom, , dow] = [parts[2], parts[3], parts[4]];
  if ((dom === "?") === (dow === "?")) return "exactly one of day-of-month and day-of-week must be ?, the other says which days";
  for (let i = 0; i < 6; i++) {
    const problem = fieldProblem(FIELDS[i], parts[i]);
    if (problem) return `${FIELDS[i].name} "${parts[i]}": ${problem}`;
  }
  return undefined;
}

function fieldProblem(field: Field, text: string): string | undefined {
  if (text === "?") return field.name === "day-of-month" || field.name === "day-of-week" ? undefined : "? is allowed only in a day field";
  for (const item of text.split(",")) {
    const special = specialProblem(field, item);
    if (special !== undefined) {
      if (special) return special;
      continue;
    }
    const [range, step] = item.split("/");
    if (step !== undefined && !/^\d+$/.test(step)) return `step "${step}" is not a whole number`;
    if (step !== undefined && Number(step) < 1) return "a step must be 1 or more";
    if (range === "*") continue;
    const bounds = range.split("-");
    if (bounds.length > 2) return `"${range}" is not a value or a range`;
    const values = bounds.map((b) => value(field, b));
    if (values.some((v) => v === undefined))
      return `"${range}" is outside ${field.min}-${field.max}${field.names ? ` (or ${field.names[0]}-${field.names.at(-1)})` : ""}`;
    if (values.length === 2 && values[0]! > values[1]! && field.name !== "day-of-week") return `the range "${range}" runs backwards`;
  }
  return undefined;
}

/** `L`, `W` and `#` items: "" when valid, a problem, or undefined when the item is not one of them. */
function specialProblem(field: Field, item: string): string | undefined {
  if (field.name === "day-of-month") {
    if (item === "L" || item === "LW") return "";
    const w = /^(\d+)W$/.exec(item);
    if (w) return Number(w[1]) >= 1 && Number(w[1]) <= 31 ? "" : "W takes a day from 1 to 31";
  }
  if (field.name === "day-of-week") {
    const last = /^(.+)L$/.exec(item);
    if (item === "L") return "";
    if (last && value(field, last[1]) !== undefined) return "";
    const nth = /^(.+)#(\d)$/.exec(item);
    if (nth) return value(field, nth[1]) !== undefined && Number(nth[2]) >= 1 && Number(nth[2]) <= 5 ? "" : "# takes a weekday and a week from 1 to 5";
  }
  return undefined;
}

function value(field: Field, text: string): number | undefined {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  if (named >= 0) return field.min + named;
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n >= field.min && n <= field.max ? n : undefined;
}

/**
 * About how many runs a month an expression makes (730 hours), for `npm run cost`: a rate exactly; a
 * cron by counting its matches over four weeks (L, W and # count once a month).
 */
export function runsPerMonth(expression: string): number {
  const HOURS = 730;
  const rate = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (rate) return (HOURS * 60) / (Number(rate[1]) * { minute: 1, hour: 60, day: 1440 }[rate[2] as "minute" | "hour" | "day"]);
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (!cron) return 0;
  const [minutes, hours, dom, month, dow] = cron[1].split(" ");
  const set = (field: Field, text: string) => {
    const out = new Set<number>();
    for (const item of text.split(",")) {
      const [range, step] = item.split("/");
      const [lo, hi] = range === "*" || range === "?" ? [field.min, field.max] : range.split("-").map((b) => value(field, b) ?? field.min);
      for (let v = lo; v <= (hi ?? (step ? field.max : lo)); v += Number(step ?? 1)) out.add(v);
    }
    return out;
  };
  const perDay = set(FIELDS[0], minutes).size * set(FIELDS[1], hours).size;
  if (/[LW#]/.test(`${dom} ${dow}`)) return perDay; // once a month, about
  const months = set(FIELDS[3], month).size / 12;
  // Days in a 28-day window (four of each weekday; days 1-28 of the month), scaled to a month.
  const days = dom === "?" ? (set(FIELDS[4], dow).size * 4 * 30.4) / 28 : ([...set(FIELDS[2], dom)].filter((d) => d <= 28).length * 30.4) / 28;
  return perDay * days * months;
}
