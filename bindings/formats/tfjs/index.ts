// The TF.js LayersModel API in one place: the network type, the reader, the writer, the masks and
// the forward pass (each in its own file).
export {
  ModelFormatError, type DenseActivation, type DenseLayerSpec, type DenseNetwork, type LayersModelSource,
  type ModelFormatErrorDetails,
} from "../../network/network.ts";
export { parseLayersModel } from "./read.ts";
export { countNonzeros, writeLayersModel, type LayerCount, type WrittenLayersModel } from "./write.ts";
export { masksFromJson, masksOf, masksToJson, type LayerMask, type MasksJson } from "../masks.ts";
export { forward } from "../../network/forward.ts";
