/**
 * A URL as it may be shown: in a log line, an error, the policy's status (cluster-scoped, readable by tenants)
 * or the unauthenticated /readyz body. The user info (`user:password@`) is dropped, and the value of a query
 * parameter whose name says it is a secret (`token=`, `api_key=`, `X-Amz-Signature=`...) is replaced; the
 * scheme, host, port and path stay, since they are what a reader needs to find the server.
 */

/** Query parameter names that carry secrets by convention (OAuth, API keys, pre-signed URLs). */
const SECRET_NAME = /token|secret|passw|pwd|key|sig|auth|credential|session|code/i;

export const REDACTED = 'REDACTED';

export function displayUrl(url: string | URL): string {
  let shown: URL;
  try {
    shown = new URL(url);
  } catch {
    return scrubText(String(url));
  }
  const secretNames = [...new Set(shown.searchParams.keys())].filter((name) => SECRET_NAME.test(name));
  // Nothing to hide: the text as it was written (no trailing slash added), which is what a reader will search for.
  if (typeof url === 'string' && !shown.username && !shown.password && !shown.hash && secretNames.length === 0)
    return url;
  shown.username = '';
  shown.password = '';
  shown.hash = '';
  for (const name of secretNames) shown.searchParams.set(name, REDACTED);
  return shown.href;
}

/**
 * What does not parse as a URL is still shown without what looks like user info or a secret parameter:
 * `scheme://anything@` loses the part before the @, `token=value` its value.
 */
function scrubText(text: string): string {
  return text
    .replace(/(\/\/)[^/@\s]*@/g, '$1')
    .replace(/([?&;][^=&#\s]*)=([^&#\s]*)/g, (whole, name: string) =>
      SECRET_NAME.test(name) ? `${name}=${REDACTED}` : whole,
    );
}
