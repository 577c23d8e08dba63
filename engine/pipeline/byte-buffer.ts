// Bytes read from a stream, copied into one buffer as they arrive, so that each chunk is garbage at
// once. Kept until the end, the chunks of a 40 MB body (640 of 64 KB) were spread over the allocator's
// heap, which did not give them back to the system after a burst; one large buffer is its own mapping.
export class ByteBuffer {
  #buf = EMPTY
  #size = 0

  /** `expected`: the size announced (content-length), allocated at once; `max`: it never grows past. */
  constructor(readonly max: number, readonly expected = 0) {}

  get size(): number {
    return this.#size
  }

  /** The bytes the buffer grows by to take `n` more (0 when it has room); over `max`, null. */
  growth(n: number): number | null {
    const end = this.#size + n
    if (end > this.max) return null
    if (end <= this.#buf.length) return 0
    // the announced size at once; else doubling, from 16 KiB
    const want = this.expected >= end ? this.expected : Math.max(end, this.#buf.length * 2, 16 * 1024)
    return Math.min(this.max, want) - this.#buf.length
  }

  /** Appends a chunk (its growth must have been asked first, and not be null). */
  push(chunk: Buffer): void {
    const grow = this.growth(chunk.length)!
    if (grow > 0) {
      const next = Buffer.allocUnsafeSlow(this.#buf.length + grow)
      this.#buf.copy(next, 0, 0, this.#size)
      this.#buf = next
    }
    chunk.copy(this.#buf, this.#size)
    this.#size += chunk.length
  }

  bytes(): Buffer {
    return this.#buf.subarray(0, this.#size)
  }
}

const EMPTY = Buffer.alloc(0)
