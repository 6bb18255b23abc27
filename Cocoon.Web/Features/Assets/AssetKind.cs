namespace Cocoon.Web.Features.Assets;

/// <summary>What a stored, sealed file is to its owner.</summary>
public enum AssetKind
{
    /// <summary>An ONNX model.</summary>
    Model,

    /// <summary>A safetensors file whose tensors share their first (row) dimension.</summary>
    Dataset,
}
