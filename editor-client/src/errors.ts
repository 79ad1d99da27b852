/** Something the user can fix (an empty idea, no folder open); its message is shown as is. */
export class UserError extends Error {}

/** A command needs the server and it is not running; the message says why. */
export class ServerNotRunning extends Error {
  constructor(reason: string) {
    super(`sopls: the server is not running: ${reason}. Fix it and run "sopls: Restart Server".`);
  }
}
