/**
 * Who is calling the API: the users and their tokens (`--token`, `--tokens FILE`), the
 * check that runs on the route Fastify actually matched (never on the raw URL text, whose
 * percent-encodings, slashes and dot segments the router reads differently), and request
 * logging with the secrets taken out.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import { DentsegError } from '../errors.js';
import { API_PREFIX } from './types.js';

/** A user as the routes see it. */
export interface ApiUser {
  /** 1–64 of A–Z a–z 0–9 . _ - ; recorded on each analysis the user creates. */
  readonly name: string;
  /** Admins see, list, download and delete every analysis; others only their own. */
  readonly admin: boolean;
}

/** A user and the SHA-256 digest of their token (the token itself is not kept). */
export interface UserToken extends ApiUser {
  readonly digest: Buffer;
}

/** The name of the one admin user that `--token` / `DENTSEG_TOKEN` defines. */
export const TOKEN_USER_NAME = 'admin';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, from a valid Bearer token; null without one (or on a server without tokens). */
    user: ApiUser | null;
  }
  interface FastifyContextConfig {
    /**
     * `optional`: an /api/v1 route that answers without a token (health). Every other route
     * under /api/v1 needs a user when the server has tokens.
     */
    auth?: 'optional';
  }
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;
const HEX64 = /^[0-9a-fA-F]{64}$/;

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** A user whose token is given in clear (`--token`, or `name:token` in a tokens file). */
export function userWithToken(name: string, token: string, admin: boolean): UserToken {
  return { name, admin, digest: sha256(token) };
}

/**
 * Parse a tokens file: one user a line, `name:token[:admin]` or `name:sha256:HEX[:admin]`
 * (HEX: the 64-digit SHA-256 of the token); blank lines, `#` lines and ` # …` after a user
 * are comments. A bad line throws E_CONFIG_INVALID naming `file` and the line number, never
 * the token.
 */
export function parseTokensFile(text: string, file: string): UserToken[] {
  const users: UserToken[] = [];
  const bad = (line: number, why: string): DentsegError =>
    new DentsegError('E_CONFIG_INVALID', `line ${line}: ${why}`, {
      file,
      hint: 'one user a line: name:token[:admin] or name:sha256:HEX[:admin]',
    });
  text.split(/\r?\n/).forEach((raw, i) => {
    // Tokens hold no white space, so " #" starts a comment unambiguously.
    const line = raw.replace(/\s+#.*$/, '').trim();
    if (line === '' || line.startsWith('#')) return;
    const fields = line.split(':');
    const [name = '', second = ''] = fields;
    let admin = false;
    let user: UserToken;
    if (!NAME.test(name)) {
      throw bad(i + 1, 'the user name must be 1–64 letters, digits, ".", "_" or "-"');
    }
    if (second === 'sha256' && fields.length >= 3) {
      const hex = fields[2] ?? '';
      if (!HEX64.test(hex)) throw bad(i + 1, 'sha256: must be followed by 64 hex digits');
      if (fields.length > 4 || (fields.length === 4 && fields[3] !== 'admin')) {
        throw bad(i + 1, 'only ":admin" may follow the digest');
      }
      admin = fields.length === 4;
      user = { name, admin, digest: Buffer.from(hex, 'hex') };
    } else {
      if (second === '' || /\s/.test(second)) {
        throw bad(i + 1, 'the token is empty or holds white space');
      }
      if (fields.length > 3 || (fields.length === 3 && fields[2] !== 'admin')) {
        throw bad(i + 1, 'only ":admin" may follow the token (a token cannot hold ":")');
      }
      admin = fields.length === 3;
      user = userWithToken(name, second, admin);
    }
    if (users.some((u) => u.name === name)) throw bad(i + 1, `user "${name}" is listed twice`);
    if (users.some((u) => u.digest.equals(user.digest))) {
      throw bad(i + 1, `user "${name}" has the same token as another user`);
    }
    users.push(user);
  });
  if (users.length === 0) {
    throw new DentsegError('E_CONFIG_INVALID', 'no users in the tokens file', {
      file,
      hint: 'one user a line: name:token[:admin] or name:sha256:HEX[:admin]',
    });
  }
  return users;
}

/** Read and parse a tokens file (see {@link parseTokensFile}). */
export function readTokensFile(file: string): UserToken[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const missing = (cause as NodeJS.ErrnoException).code === 'ENOENT';
    throw new DentsegError(
      missing ? 'E_FILE_NOT_FOUND' : 'E_USAGE',
      missing ? 'the tokens file does not exist' : 'cannot read the tokens file',
      { file, hint: 'pass a readable file with --tokens', cause },
    );
  }
  return parseTokensFile(text, file);
}

/**
 * Everyone allowed on a server: the `--token` admin (named {@link TOKEN_USER_NAME}) plus the
 * users of a tokens file. Empty: a server without tokens.
 */
export function combineUsers(
  token: string | undefined,
  users: readonly UserToken[] | undefined,
): UserToken[] {
  const all = [...(users ?? [])];
  if (token !== undefined && token !== '') {
    const tokenUser = userWithToken(TOKEN_USER_NAME, token, true);
    if (all.some((u) => u.name === TOKEN_USER_NAME || u.digest.equals(tokenUser.digest))) {
      throw new DentsegError(
        'E_USAGE',
        `--token defines the admin user "${TOKEN_USER_NAME}", which the tokens file also names or whose token it reuses`,
        { hint: `rename that user in the tokens file, or drop --token / DENTSEG_TOKEN` },
      );
    }
    all.push(tokenUser);
  }
  return all;
}

/** Any Fastify request (whatever its route's generics): the auth layer reads only `user`. */
export interface RequestWithUser {
  readonly user: ApiUser | null;
}

/** What the routes ask of the auth layer. */
export interface Auth {
  /** True when the server has tokens (requests to /api/v1 need a user). */
  readonly enabled: boolean;
  /**
   * Whose analyses this request may see: a user name (only theirs), or undefined (all: an
   * admin, or a server without tokens).
   */
  owner(request: RequestWithUser): string | undefined;
  /** The user recorded on an analysis this request creates (null without tokens). */
  creator(request: RequestWithUser): string | null;
  /** True on a server with tokens when the request carries no valid one. */
  anonymous(request: RequestWithUser): boolean;
}

/** The user whose token digest matches, comparing against every user in constant time. */
function match(users: readonly UserToken[], presented: string): UserToken | undefined {
  const digest = sha256(presented);
  let found: UserToken | undefined;
  for (const user of users) {
    // No early exit: the time taken does not tell which user (if any) matched.
    if (timingSafeEqual(user.digest, digest) && found === undefined) found = user;
  }
  return found;
}

/**
 * Install authentication on `app` (before its routes): every route whose matched pattern is
 * under /api/v1 needs `Authorization: Bearer <token>` of a known user, except routes with
 * `config: { auth: 'optional' }`. Requests that match no route are left to the not-found
 * handler (404). Without users nothing is checked and `request.user` stays null.
 */
export function installAuth(app: FastifyInstance, users: readonly UserToken[]): Auth {
  app.decorateRequest('user', null);
  const enabled = users.length > 0;
  if (enabled) {
    app.addHook('onRequest', async (request) => {
      const route = request.routeOptions.url;
      if (route === undefined || request.is404) return;
      const header = request.headers.authorization ?? '';
      const bearer = /^Bearer\s+(\S.*)$/i.exec(header)?.[1]?.trim();
      request.user = bearer !== undefined ? (match(users, bearer) ?? null) : null;
      if (!route.startsWith(`${API_PREFIX}/`)) return;
      if (request.routeOptions.config.auth === 'optional' || request.user !== null) return;
      throw new DentsegError(
        'E_UNAUTHORIZED',
        header ? 'wrong token' : 'missing token: send "Authorization: Bearer <token>"',
        { hint: 'use your token from the server (--token or the --tokens file)' },
      );
    });
  }
  return {
    enabled,
    owner: (request) =>
      enabled && !(request.user?.admin ?? false) ? (request.user?.name ?? '') : undefined,
    creator: (request) => request.user?.name ?? null,
    anonymous: (request) => enabled && request.user === null,
  };
}

/** `url` with the value of every query parameter whose name contains "token" replaced. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  return (
    url.slice(0, q) + url.slice(q).replace(/([?&;][^=&;#]*token[^=&;#]*=)[^&;#]*/gi, '$1[redacted]')
  );
}

/**
 * Fastify's logger options: off, or on with request lines that keep tokens out (query
 * strings redacted, no headers). `stream` sends the lines elsewhere than stdout (tests).
 */
export function loggerOptions(
  logger: boolean | { readonly stream: NodeJS.WritableStream } | undefined,
): Exclude<FastifyServerOptions['logger'], undefined> {
  if (logger === undefined || logger === false) return false;
  return {
    level: 'info',
    ...(logger === true ? {} : { stream: logger.stream }),
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
    serializers: {
      req: (req) => ({
        method: req.method,
        url: redactUrl(req.url),
        host: req.host,
        remoteAddress: req.ip,
        ...(req.socket.remotePort !== undefined ? { remotePort: req.socket.remotePort } : {}),
      }),
    },
  };
}
