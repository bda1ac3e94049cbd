import { SetMetadata } from '@nestjs/common';
import type { Request } from 'express';
import { CODEC_PATH } from './codec-cors';

/**
 * The Temporal UI calls the codec from the browser and can attach an `Authorization` header only for its own sign-in
 * (and only over https); what it can send is the browser's cookies ("include cross-origin credentials"). So an admin
 * signed in to GigaChat gets this cookie from `POST /api/v1/codec/session`: their access token, HttpOnly (no script
 * reads it), SameSite=Strict (no other site's page makes the browser send it), scoped to the codec routes' path, and
 * expiring with the token. The codec routes accept it in place of the header; no other route does.
 */
export const CODEC_COOKIE = 'gigachat_codec';

/** Metadata key of `@AcceptsCodecCookie()`. */
export const ACCEPTS_CODEC_COOKIE = 'gigachat:acceptsCodecCookie';

/** On a route: when the request has no `Authorization` header, the codec cookie's access token stands in for it. */
export const AcceptsCodecCookie = (): MethodDecorator & ClassDecorator => SetMetadata(ACCEPTS_CODEC_COOKIE, true);

/** The codec cookie's value in `req`'s Cookie header, if there is one. */
export function codecCookieOf(req: Request): string | undefined {
  for (const part of (req.header('cookie') ?? '').split(';')) {
    const at = part.indexOf('=');
    if (at > 0 && part.slice(0, at).trim() === CODEC_COOKIE) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

/** The Set-Cookie value that stores `token` for `maxAgeSeconds`, or clears the cookie when `token` is empty. */
export function codecCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  const path = CODEC_PATH.slice(0, -1);
  const age = token ? Math.max(0, Math.floor(maxAgeSeconds)) : 0;
  return `${CODEC_COOKIE}=${token}; Path=${path}; Max-Age=${age}; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
}
