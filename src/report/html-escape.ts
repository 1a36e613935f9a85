/**
 * Text into HTML. Labels are written by tenants (a team label may be `<script>...`), so every value the
 * page shows goes through here, in text and in double-quoted attributes alike.
 */
const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}
