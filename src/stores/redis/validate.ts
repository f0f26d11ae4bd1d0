/**
 * The store's argument checks: the shared rules of src/validation.ts, which throw
 * `InvalidArgumentError` naming the argument they refuse. (Kept so the store's files import
 * their checks from one place; they may as well import src/validation.ts directly.)
 */
export { isName, requireInteger, requireNumber } from "../../validation.js";
