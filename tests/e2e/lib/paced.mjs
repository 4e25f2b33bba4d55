// paced.mjs - a recording as the browser's recorder hands it to the tus
// client (tus-js-client's fileReader source): a file that grows at
// real-time pace while it is recorded. Used by instant.test.mjs and
// bench/instant-peak.mjs.

// tus-js-client reads the length of what a source gives as `.size` (a
// Blob's, in the browser).
const piece = (buf) => Object.assign(buf, { size: buf.length });

// A source that hands out `data` at real-time pace: its `seconds` of
// media spread evenly, a piece every `everyMs`, the way
// web/js/recupload.js hands out the recorder's chunks; with seconds 0, all
// of it at once (a finished file). start() begins the recording, stop()
// abandons it (no byte ever comes again); `stopped` is Date.now() when the
// last byte was handed out.
export class PacedSource {
  constructor(data, seconds, everyMs = 1000) {
    Object.assign(this, { data, seconds, everyMs, avail: 0, finished: false, stopped: null, waiters: [] });
  }

  start() {
    const t0 = Date.now();
    const tick = () => {
      this.avail = this.seconds
        ? Math.min(this.data.length, Math.floor((this.data.length * (Date.now() - t0)) / (this.seconds * 1000)))
        : this.data.length;
      if (this.avail === this.data.length) {
        this.finished = true;
        this.stopped = Date.now();
        clearInterval(this.timer);
      }
      for (const w of this.waiters.splice(0)) w();
    };
    if (this.seconds) this.timer = setInterval(tick, this.everyMs);
    else tick();
  }

  stop() { clearInterval(this.timer); }

  async slice(start, end) {
    for (;;) {
      if (this.avail > start) {
        const stop = Math.min(end, this.avail);
        return { value: piece(this.data.subarray(start, stop)), done: this.finished && stop >= this.avail };
      }
      if (this.finished) return { value: piece(Buffer.alloc(0)), done: true };
      await new Promise((r) => this.waiters.push(r));
    }
  }

  close() {}
}
