import { DslError } from '../errors.js';

/** A selection that does not parse or names something that does not exist; points at the offending spot. */
export class SelectionError extends DslError {
  constructor(
    readonly selection: string,
    readonly position: number,
    readonly problem: string,
  ) {
    super(
      `selection "${selection}": ${problem} (at position ${position})\n  ${selection}\n  ${' '.repeat(position)}^`,
    );
  }
}
