import { RunStatus } from './protocol';

/**
 * Money for people: `$3.00`, to the cent; an amount below a dollar that is not whole cents keeps
 * four places (`$0.0123`), since a cheap model's runs cost fractions of a cent.
 */
export function usd(amount: number): string {
  const cents = amount * 100;
  return amount >= 1 || Math.abs(cents - Math.round(cents)) < 1e-9 ? `$${amount.toFixed(2)}` : `$${amount.toFixed(4)}`;
}

/** How long ago `iso` was, coarsely: "just now", "5 min ago", "3 h ago", "2 days ago". */
export function age(iso: string, now: Date = new Date()): string {
  const minutes = Math.floor((now.getTime() - new Date(iso).getTime()) / 60_000);
  if (!Number.isFinite(minutes) || minutes < 1) {
    return 'just now';
  }
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.floor(minutes / 60);
  return hours < 24 ? `${hours} h ago` : `${Math.floor(hours / 24)} days ago`;
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
