/**
 * The calls that name tasks by id or page through them (`get`, `cancel`, `list`): their
 * arguments are checked here and refused with a rejection, never a synchronous throw.
 */
import { checkListOptions } from "../argument-checks.js";
import type { Backend } from "../engine/backend.js";
import { InvalidArgumentError } from "../errors.js";
import type { ListOptions, TaskPage, TaskSnapshot } from "../types.js";

export class TaskLookup {
  constructor(private readonly backend: Backend) {}

  get(id: string): Promise<TaskSnapshot | undefined> {
    if (typeof id !== "string")
      return Promise.reject(new InvalidArgumentError("id", "must be a string", id));
    return this.backend.get(id);
  }

  cancel(id: string): Promise<boolean> {
    if (typeof id !== "string")
      return Promise.reject(new InvalidArgumentError("id", "must be a string", id));
    return this.backend.cancel(id);
  }

  list(options: ListOptions | undefined): Promise<TaskPage> {
    try {
      checkListOptions(options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.backend.list(options);
  }
}
