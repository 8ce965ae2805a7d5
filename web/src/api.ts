//! The only way the page talks to the server: GraphQL over `fetch` at `/graphql`, with the
//! token from the sign-in form as a bearer token. The token lives in sessionStorage, so it is
//! gone when the tab closes.

export type Role = "VIEWER" | "ANALYST" | "ADMIN";
export type SubjectKind = "ACCOUNT" | "PERSON" | "ENTITY" | "MEMBER" | "IDENTIFIER";
export type Strength = "STRONG" | "WEAK";
export type Decision = "CONFIRMED" | "DISMISSED" | "ESCALATED";

export interface GraphNode {
  id: string;
  kind: SubjectKind;
  label: string;
  groupId: string | null;
}
export interface GraphEdge {
  id: string;
  source: string;
  target: string;
  kind: string;
  label: string;
  /** The same label in Simplified Chinese, from the API. */
  labelZh: string;
  weight: number | null;
  strength: Strength | null;
  criterion: string | null;
}
export interface Subgraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
  truncated?: boolean;
}
export interface Viewer {
  name: string;
  role: Role;
}

const TOKEN_KEY = "ctrlgraph.token";

/** An error the API returned, with its `extensions.code` (UNAUTHENTICATED, FORBIDDEN, ...). */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: string | null,
  ) {
    super(message);
  }
}

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value: string | null): void {
  if (value === null) sessionStorage.removeItem(TOKEN_KEY);
  else sessionStorage.setItem(TOKEN_KEY, value);
}

let unauthenticated: () => void = () => {};

/** What to do when the server rejects the token (the router goes back to sign-in). */
export function onUnauthenticated(handler: () => void): void {
  unauthenticated = handler;
}

interface GqlResponse<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** Runs one GraphQL operation; any error in the answer is thrown as an `ApiError`. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}, auth = token()): Promise<T> {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (auth) headers.authorization = `Bearer ${auth}`;
  const response = await fetch("/graphql", { method: "POST", headers, body: JSON.stringify({ query, variables }) });
  let body: GqlResponse<T>;
  try {
    body = (await response.json()) as GqlResponse<T>;
  } catch {
    throw new ApiError(`HTTP ${response.status}`, response.status === 401 ? "UNAUTHENTICATED" : null);
  }
  const first = body.errors?.[0];
  if (response.status === 401 || first?.extensions?.code === "UNAUTHENTICATED") {
    if (auth === token()) unauthenticated();
    throw new ApiError(first?.message ?? "unauthenticated", "UNAUTHENTICATED");
  }
  if (first) throw new ApiError(first.message, first.extensions?.code ?? null);
  if (!response.ok || body.data === undefined) throw new ApiError(`HTTP ${response.status}`, null);
  return body.data;
}

export const GRAPH_FIELDS = `
  nodes { id kind label groupId }
  edges { id source target kind label labelZh weight strength criterion }
`;

export async function me(auth?: string): Promise<Viewer> {
  const data = await gql<{ me: Viewer }>("query Me { me { name role } }", {}, auth ?? token());
  return data.me;
}

export async function neighborhood(id: string, depth = 1, limit = 200): Promise<Subgraph> {
  const data = await gql<{ neighborhood: Subgraph }>(
    `query Neighborhood($id: ID!, $depth: Int!, $limit: Int!) {
      neighborhood(id: $id, depth: $depth, limit: $limit) { ${GRAPH_FIELDS} truncated }
    }`,
    { id, depth, limit },
  );
  return data.neighborhood;
}

export interface Connection extends Subgraph {
  /** One sentence per edge in English; `zh` the same in Chinese. */
  explanation: string[];
  zh: string[];
}

export async function connection(a: string, b: string): Promise<Connection | null> {
  const data = await gql<{ connection: Connection | null }>(
    `query Connection($a: ID!, $b: ID!) { connection(a: $a, b: $b) { ${GRAPH_FIELDS} explanation zh: explanation(lang: ZH) } }`,
    { a, b },
  );
  return data.connection;
}
