import { UserError } from "../errors/user-error";
/** A file that is not a Keras model this project can read or write, or a model Keras's format cannot hold; one sentence. */
export class KerasFormatError extends UserError {
  override name = "KerasFormatError";
}
