import { DateTime, Duration } from 'luxon';

/**
 * Event-time watermark of a stream split into sub-streams (Kafka partitions, landing files): the minimum over
 * sub-streams of the latest derived_tstamp each has delivered. A sub-stream that delivered nothing yet does not
 * hold the watermark back (an idle partition would stall it forever).
 *
 * An hour `H` is closed once the watermark passed `H + 1h + allowedLateness` — the same rule the publish barrier
 * uses — so an event for a closed hour re-opens it (its dependents may already be published and are now stale).
 */
export class EventTimeWatermark {
  private readonly latest = new Map<string, string>();
  private readonly latenessMs: number;

  constructor(allowedLatenessMinutes: number, initial?: Readonly<Record<string, string>>) {
    this.latenessMs = Duration.fromObject({ minutes: allowedLatenessMinutes }).toMillis();
    for (const [stream, ts] of Object.entries(initial ?? {})) this.latest.set(stream, ts);
  }

  /** ISO-8601 UTC instant, or undefined before the first event. Canonical ISO strings compare as text. */
  get value(): string | undefined {
    let min: string | undefined;
    for (const ts of this.latest.values()) if (min === undefined || ts < min) min = ts;
    return min;
  }

  /** Per-stream state, to persist and pass back as `initial` after a restart. */
  snapshot(): Record<string, string> {
    return Object.fromEntries(this.latest);
  }

  observe(stream: string, derivedTstamp: string): void {
    const cur = this.latest.get(stream);
    if (cur === undefined || derivedTstamp > cur) this.latest.set(stream, derivedTstamp);
  }

  /** Whether hour partition `hourKey` (`2026-11-24T13`) is closed at the current watermark. */
  isClosed(hourKey: string): boolean {
    const wm = this.value;
    if (wm === undefined) return false;
    const closesAt = DateTime.fromISO(`${hourKey}:00:00Z`, { zone: 'utc' }).plus({
      hours: 1,
      milliseconds: this.latenessMs,
    });
    return DateTime.fromISO(wm, { zone: 'utc' }) >= closesAt;
  }
}
