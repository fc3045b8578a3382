/**
 * MIME types of common file extensions, for the `mime_type` that DataJoint Python records for
 * staged files (`mimetypes.guess_type`). Only types Python's standard table also gives; an
 * extension it does not know gets none, as there.
 */
const TYPES: Record<string, string> = {
  '.txt': 'text/plain',
  '.csv': 'text/csv',
  '.tsv': 'text/tab-separated-values',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.html': 'text/html',
  '.htm': 'text/html',
  '.md': 'text/markdown',
  '.pdf': 'application/pdf',
  '.zip': 'application/zip',
  '.gz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.tif': 'image/tiff',
  '.tiff': 'image/tiff',
  '.bmp': 'image/bmp',
  '.svg': 'image/svg+xml',
  '.mp4': 'video/mp4',
  '.avi': 'video/x-msvideo',
  '.mov': 'video/quicktime',
  '.wav': 'audio/x-wav',
  '.mp3': 'audio/mpeg',
};

/** The MIME type of an extension (`.png`), or null when unknown. */
export function mimeType(ext: string | null | undefined): string | null {
  return ext ? (TYPES[ext.toLowerCase()] ?? null) : null;
}
