/**
 * `Content-Disposition: attachment` for a stored file name (RFC 6266): an ASCII fallback in `filename` and the exact
 * name, percent-encoded UTF-8, in `filename*` (RFC 8187). Names are cleaned at upload; quotes, backslashes and
 * anything outside printable ASCII are replaced in the fallback all the same.
 */
export function attachmentDisposition(name: string): string {
  const fallback = name.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
