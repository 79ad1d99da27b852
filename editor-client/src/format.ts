import { RunStatus } from './protocol';

/** Money as the server reports it, to a hundredth of a cent. */
export function usd(amount: number): string {
  return `$${amount.toFixed(4)}`;
}

/** The first line of `text`, cut to `length` characters, for titles and labels. */
export function headline(text: string, length = 60): string {
  const line = text.trim().split('\n', 1)[0];
  return line.length > length ? `${line.slice(0, length - 1)}…` : line;
}

/** A run's status for people: "budget exceeded". */
export function statusLabel(status: RunStatus): string {
  return status.replace('_', ' ');
}
