// The API v1 client: the bearer token from session storage, JSON in and out, errors as
// `ApiError` with the server's code, message and diagnostics. A 401 anywhere signs out.

import { Diagnostic } from "./model/types";

const TOKEN_KEY = "automations.token";

export function getToken(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token: string | null) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

type Listener = () => void;
const unauthorizedListeners = new Set<Listener>();

/** Called when a request answers 401 (the token is gone or wrong). */
export function onUnauthorized(listener: Listener): () => void {
  unauthorizedListeners.add(listener);
  return () => unauthorizedListeners.delete(listener);
}

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    public diagnostics: Diagnostic[] = [],
  ) {
    super(message);
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  /** Send `body` as it is (a string), as text/plain (DSL) unless `contentType` says otherwise. */
  text?: boolean;
  contentType?: string;
  headers?: Record<string, string>;
  token?: string;
}

export interface Answer<T> {
  data: T;
  headers: Headers;
}

export async function request<T>(path: string, options: RequestOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
  const token = options.token ?? getToken();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body: string | undefined;
  if (options.body !== undefined) {
    body = options.text ? String(options.body) : JSON.stringify(options.body);
    headers["Content-Type"] = options.contentType ?? (options.text ? "text/plain" : "application/json");
  }
  let response: Response;
  try {
    response = await fetch(`/api/v1${path}`, { method: options.method ?? (body ? "POST" : "GET"), headers, body });
  } catch (e) {
    throw new ApiError(0, "network", `The server cannot be reached (${(e as Error).message}).`);
  }
  const text = await response.text();
  let data: unknown = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const error = (data as { error?: { code?: string; message?: string; diagnostics?: Diagnostic[] } })?.error;
    if (response.status === 401 && !options.token) unauthorizedListeners.forEach((l) => l());
    throw new ApiError(
      response.status,
      error?.code ?? "http_error",
      error?.message ?? `${response.status} ${response.statusText}`,
      error?.diagnostics ?? [],
    );
  }
  return { data: data as T, headers: response.headers };
}

export async function get<T>(path: string): Promise<T> {
  return (await request<T>(path)).data;
}

export async function post<T>(path: string, body?: unknown): Promise<T> {
  return (await request<T>(path, { method: "POST", body: body ?? {} })).data;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

/** `path` with query parameters, leaving out empty ones. */
export function withQuery(path: string, query: Record<string, string | number | boolean | undefined | null>): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== "") params.set(k, String(v));
  const q = params.toString();
  return q ? `${path}?${q}` : path;
}

/** A readable line for an error: status, message, and the first diagnostics. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    const head = e.status ? `${e.status} ${e.code}: ${e.message}` : e.message;
    if (e.status === 409) return `Conflict (409): ${e.message}`;
    return head;
  }
  return (e as Error)?.message ?? String(e);
}
