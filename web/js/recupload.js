// recupload.js - a recording uploaded while it is being made: a tus upload
// with uploadLengthDeferred whose source (a custom tus fileReader) reads
// the chunks kept in IndexedDB, waits for more while recording goes on, and
// says "done" (so tus sends Upload-Length) once the recording is finished.
import { loadTus, tusHeaders, uploadIdFromUrl, ENDPOINT, chunkSize } from './uploader.js';
import { putRecording } from './chunkstore.js';

export class RecordingSource {
  constructor(meta, chunks = []) {
    this.meta = meta;
    this.chunks = chunks.slice().sort((a, b) => a.seq - b.seq);
    this.finished = !!meta.finished;
    this.waiters = [];
    this.size = null;
  }

  total() {
    const last = this.chunks[this.chunks.length - 1];
    return last ? last.start + last.size : 0;
  }

  add(chunk) { this.chunks.push(chunk); this.wake(); }
  finish() { this.finished = true; this.wake(); }
  wake() { for (const w of this.waiters.splice(0)) w(); }

  blob(start, end) {
    const parts = [];
    for (const c of this.chunks) {
      if (c.start + c.size <= start || c.start >= end) continue;
      parts.push(c.blob.slice(Math.max(0, start - c.start), Math.min(c.size, end - c.start)));
    }
    return new Blob(parts, { type: 'application/octet-stream' });
  }

  // tus-js-client source interface: {value, done} for [start, end).
  async slice(start, end) {
    for (;;) {
      const total = this.total();
      if (total > start) {
        const stop = Math.min(end, total);
        return { value: this.blob(start, stop), done: this.finished && stop >= total };
      }
      if (this.finished) return { value: new Blob([]), done: true };
      await new Promise((r) => this.waiters.push(r));
    }
  }

  close() {}
}

// Start (or resume, when meta.uploadUrl is set) the upload of a recording.
// callbacks: onProgress(sent), onSuccess(uploadId), onError(err).
export async function startRecordingUpload(meta, source, { onProgress, onSuccess, onError }) {
  const tus = await loadTus();
  const up = new tus.Upload(source, {
    endpoint: ENDPOINT,
    uploadUrl: meta.uploadUrl || null,
    uploadLengthDeferred: true,
    chunkSize: chunkSize(4 * 1024 * 1024),
    retryDelays: [0, 1000, 3000, 5000, 10000, 20000, 30000],
    headers: tusHeaders(),
    storeFingerprintForResuming: false,
    fileReader: { openFile: async () => source },
    fingerprint: async () => `hubcast-rec-${meta.id}`,
    metadata: {
      filename: meta.filename, filetype: meta.mimeType, title: meta.title, description: meta.description || '', kind: meta.kind || 'weekly',
    },
    onUploadUrlAvailable: async () => {
      meta.uploadUrl = up.url;
      await putRecording(meta);
    },
    onProgress: (sent) => onProgress && onProgress(sent),
    onSuccess: () => onSuccess && onSuccess(uploadIdFromUrl(up.url)),
    onError: (err) => onError && onError(err),
  });
  up.start();
  return up;
}
