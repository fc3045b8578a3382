/** A one-line progress bar on stderr: count, percent, rate and ETA, redrawn at most 10×/s. */
export class ProgressBar {
  #start = performance.now();
  #last = 0;
  #done = 0;
  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly stream: NodeJS.WriteStream = process.stderr,
  ) {}

  tick(n = 1): void {
    this.#done += n;
    const now = performance.now();
    if (now - this.#last >= 100 || this.#done >= this.total) {
      this.#last = now;
      this.draw(now);
    }
  }

  private draw(now: number): void {
    const elapsed = (now - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const frac = this.total ? Math.min(1, this.#done / this.total) : 1;
    const width = 24;
    const filled = Math.round(frac * width);
    const eta = rate > 0 ? (this.total - this.#done) / rate : 0;
    const line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}% ${this.#done}/${this.total} ${rate.toFixed(1)} keys/s ETA ${fmt(eta)}`;
    this.stream.write(`\r${line}`);
  }

  finish(): void {
    this.draw(performance.now());
    this.stream.write('\n');
  }
}

function fmt(sec: number): string {
  if (!Number.isFinite(sec)) return '--:--';
  const s = Math.round(sec);
  const m = Math.floor(s / 60);
  return `${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}
