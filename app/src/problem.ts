import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";

/** RFC 9457 problem details; `errors` names each bad field (a JSON pointer into the request). */
export interface Problem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly errors?: readonly { readonly pointer: string; readonly detail: string }[];
}

export const PROBLEM_CONTENT_TYPE = "application/problem+json";
export const UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$";

const TITLES: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

export function problem(status: number, detail?: string, errors?: Problem["errors"]): Problem {
  return {
    type: "about:blank",
    title: TITLES[status] ?? "Error",
    status,
    ...(detail ? { detail } : {}),
    ...(errors?.length ? { errors } : {}),
  };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, body: Problem): FastifyReply {
  return reply
    .code(body.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send({ ...body, instance: request.url.split("?")[0] });
}

/** Where in the request the bad value was: body, path parameters or query string. */
const PART_PREFIX: Record<string, string> = { body: "/body", params: "/params", querystring: "/query" };

interface AjvIssue {
  readonly instancePath: string;
  readonly keyword: string;
  readonly message?: string;
  readonly params: Record<string, unknown>;
}

/** At most this many field errors in one answer: a body of thousands of unknown keys gets a short answer, not one per key. */
export const MAX_ERRORS = 20;

/** The text pattern of every string field: no NUL (PostgreSQL cannot store one) and no unpaired UTF-16 surrogate (not text; it would be stored as U+FFFD). */
export const TEXT_PATTERN = "^[^\\u0000\\uD800-\\uDFFF]*$";

/** Turns Fastify's schema validation failure into field-level problem entries. */
export function validationProblem(error: FastifyError & { validation: readonly AjvIssue[]; validationContext?: string }): Problem {
  const prefix = PART_PREFIX[error.validationContext ?? "body"] ?? "";
  const omitted = Math.max(0, error.validation.length - MAX_ERRORS);
  const errors = error.validation.slice(0, MAX_ERRORS).map((issue) => {
    const field =
      issue.keyword === "required"
        ? `${issue.instancePath}/${String(issue.params.missingProperty)}`
        : issue.keyword === "additionalProperties"
          ? `${issue.instancePath}/${String(issue.params.additionalProperty)}`
          : issue.instancePath;
    const detail =
      issue.keyword === "additionalProperties"
        ? "is not a known field"
        : issue.keyword === "required"
          ? "is required"
          : issue.keyword === "pattern" && issue.params.pattern === UUID_PATTERN
            ? "must be a UUID"
            : issue.keyword === "pattern" && issue.params.pattern === TEXT_PATTERN
              ? "must not contain U+0000 or an unpaired surrogate (\\uD800-\\uDFFF)"
              : (issue.message ?? "is invalid");
    return { pointer: `${prefix}${field}`, detail };
  });
  const names = [...new Set(errors.map((e) => e.pointer.split("/").slice(2).join(".") || e.pointer))];
  const more = omitted ? ` (and ${omitted} more problems not listed)` : "";
  return problem(400, `Invalid ${names.join(", ")}: ${errors.map((e) => e.detail).join("; ")}${more}`, errors);
}
