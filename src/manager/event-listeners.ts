/**
 * Lifecycle event listeners behind the facade's `on`, `once` and `off`: a new listener also
 * tells the backend that events are wanted (a durable engine then makes sure its live feed runs).
 */
import type { Backend } from "../engine/backend.js";
import {
  checkListener,
  type TaskEventBus,
  type TaskEventListener,
  type TaskEventName,
} from "../events.js";

export class EventListeners {
  constructor(
    private readonly events: TaskEventBus,
    private readonly backend: Backend,
  ) {}

  on<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): void {
    checkListener(event, listener);
    this.events.on(event, listener);
    this.backend.wantEvents();
  }

  once<E extends TaskEventName>(event: E, listener: TaskEventListener<E>): void {
    checkListener(event, listener);
    this.events.once(event, listener);
    this.backend.wantEvents();
  }

  off<E extends TaskEventName>(event: E, listener: TaskEventListener<E> | undefined): void {
    checkListener(event, listener, true);
    this.events.off(event, listener);
  }
}
