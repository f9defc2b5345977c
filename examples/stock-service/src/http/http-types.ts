// src/http/http-types.ts: the little of Express's request and response this service touches
// (the repository installs no @types/express; Nest runs on platform-express).

export interface HttpRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface HttpResponse {
  statusCode: number;
  setHeader(name: string, value: string): void;
  getHeader(name: string): unknown;
  status(code: number): HttpResponse;
  json(body: unknown): void;
  end(): void;
}
