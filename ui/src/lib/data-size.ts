// Mobile data is paid by the megabyte in the villages this desk serves, so
// the status bar shows what this session used, in units a phone bill uses.

const KB = 1024;
const MB = 1024 * KB;

/** Bytes as KB under one megabyte, else MB with one decimal: 0 → "0 KB", 1536000 → "1.5 MB". */
export function dataSize(bytes: number): string {
  const whole = Math.max(0, bytes);
  if (whole < MB) return `${Math.ceil(whole / KB)} KB`;
  return `${(whole / MB).toFixed(1)} MB`;
}
