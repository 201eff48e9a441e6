// The REST client: same-origin fetch with the session cookie, the CSRF header on unsafe
// methods, and problem+json errors turned into ApiError.

let csrfToken: string | null = null;

export function setCsrf(token: string | null): void {
  csrfToken = token;
}

function csrfFromCookie(): string | null {
  const found = document.cookie
    .split(";")
    .map((part) => part.trim())
    .find((part) => part.startsWith("scenarist_csrf="));
  return found ? decodeURIComponent(found.slice("scenarist_csrf=".length)) : null;
}

export class ApiError extends Error {
  status: number;
  violations: { field: string; message: string }[];

  constructor(status: number, message: string, violations: { field: string; message: string }[]) {
    super(message);
    this.status = status;
    this.violations = violations;
  }
}

export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (body !== undefined) headers["content-type"] = "application/json";
  if (!["GET", "HEAD"].includes(method)) {
    const token = csrfToken ?? csrfFromCookie();
    if (token) headers["x-csrf-token"] = token;
  }
  const response = await fetch(`/api${path}`, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed: unknown = text ? JSON.parse(text) : undefined;
  if (!response.ok) {
    const problem = (parsed ?? {}) as {
      title?: string;
      detail?: string;
      violations?: { field: string; message: string }[];
    };
    const message = [problem.title, problem.detail].filter(Boolean).join(": ");
    throw new ApiError(response.status, message || response.statusText, problem.violations ?? []);
  }
  return parsed as T;
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    const details = error.violations.map((v) => `${v.field}: ${v.message}`);
    return [error.message, ...details].join("\n");
  }
  return error instanceof Error ? error.message : String(error);
}
