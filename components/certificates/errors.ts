/** A certificate input that cannot be used; the message names the input and says what to do. */
export class CertificateInputError extends Error {
  constructor(
    readonly inputName: string,
    readonly reason: string,
  ) {
    super(`${inputName}: ${reason}`);
    this.name = "CertificateInputError";
  }
}
