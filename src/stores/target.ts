/** How a store's location is shown in messages and logs. */

/** `url` without its user name and password: messages and logs must never carry them. */
export function withoutCredentials(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    return parsed.toString();
  } catch {
    return "the configured URL";
  }
}
