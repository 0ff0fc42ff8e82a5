/**
 * Shared by the HTML tests: the page loads nothing from anywhere; every id once.
 */
import assert from "node:assert/strict";

/** Asserts the page loads nothing: no URL, no src/href, no @import or url(). */
export function assertSelfContained(html: string): void {
  assert.doesNotMatch(html, /https?:\/\//i, "no http(s) URL anywhere");
  assert.doesNotMatch(html, /\s(?:src|href|xlink:href)\s*=/i, "no src or href attribute");
  assert.doesNotMatch(html, /<link\b|@import|url\(/i, "no stylesheet link, @import or url()");
  assert.match(html, /^<!DOCTYPE html>/);
  assert.match(html, /<meta charset="utf-8">/);
}

/** Every `id="…"` of the page. */
export function ids(html: string): string[] {
  return [...html.matchAll(/\sid="([^"]*)"/g)].map((m) => m[1]);
}

/** Asserts every id of the page is unique. */
export function assertIdsUnique(html: string): void {
  const all = ids(html);
  assert.deepEqual(all, [...new Set(all)], "ids are unique");
}
