// Files come from the picker or from a drop anywhere on the page (the drop zone lights up).
export function watchFiles(input: HTMLInputElement, zone: HTMLElement, onFiles: (files: File[]) => void): void {
  input.addEventListener("change", () => {
    if (input.files && input.files.length > 0) onFiles([...input.files]);
    input.value = ""; // the same file chosen again still fires "change"
  });
  let depth = 0; // dragenter/dragleave fire for every child element crossed
  document.addEventListener("dragenter", (e) => {
    e.preventDefault();
    if (depth++ === 0) zone.classList.add("dragging");
  });
  document.addEventListener("dragleave", () => {
    if (--depth <= 0) {
      depth = 0;
      zone.classList.remove("dragging");
    }
  });
  // Without preventDefault on dragover the browser would open the dropped file instead.
  document.addEventListener("dragover", (e) => e.preventDefault());
  document.addEventListener("drop", (e) => {
    e.preventDefault();
    depth = 0;
    zone.classList.remove("dragging");
    const files = [...(e.dataTransfer?.files ?? [])];
    if (files.length > 0) onFiles(files);
  });
}
