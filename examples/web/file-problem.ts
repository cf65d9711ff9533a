// A file the page cannot use; its message is shown on the page as is.
export class FileProblem extends Error {
  override name = "FileProblem";
}
