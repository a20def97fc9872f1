/** Is an RFC 9457 problem as the API answers it (title, detail, code, errors per field). */
export interface Problem {
  status: number;
  title: string;
  detail?: string;
  code?: string;
  errors?: Record<string, string[]>;
}

/** Reads a problem out of whatever a failed call gave: the API's problem body, or a network failure. */
export function toProblem(error: unknown, status = 0): Problem {
  if (error && typeof error === "object") {
    const e = error as Record<string, unknown>;
    if (typeof e.title === "string") {
      return {
        status: typeof e.status === "number" ? e.status : status,
        title: e.title,
        detail: typeof e.detail === "string" ? e.detail : undefined,
        code: typeof e.code === "string" ? e.code : undefined,
        errors: isErrors(e.errors) ? e.errors : undefined,
      };
    }
    if (error instanceof Error) return { status, title: "The request failed", detail: error.message };
  }
  return { status, title: "The request failed", detail: status ? `The service answered ${status}.` : "The service could not be reached." };
}

/** Lists a problem's field errors as "field: message" lines. */
export function problemLines(problem: Problem): string[] {
  return Object.entries(problem.errors ?? {}).flatMap(([field, messages]) => messages.map((m) => (field ? `${field}: ${m}` : m)));
}

function isErrors(value: unknown): value is Record<string, string[]> {
  return !!value && typeof value === "object" && Object.values(value).every((v) => Array.isArray(v));
}

/** Is thrown by the typed client's helpers so that TanStack Query hands the problem to the screen. */
export class ProblemError extends Error {
  constructor(public readonly problem: Problem) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
  }
}
