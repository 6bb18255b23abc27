using System.Diagnostics;
using System.Security.Cryptography;
using Cocoon.Agent.Inference;
using Cocoon.Agent.Options;
using Cocoon.Shared.Sealing;
using Cocoon.Shared.Work;
using Microsoft.Extensions.Options;

namespace Cocoon.Agent.ModelRuns;

/// <summary>
/// Runs one unit of a model job: opens the grants with the enclave key, reads only the dataset
/// chunks that hold the unit's rows, runs the model batch by batch, seals the output rows to the
/// developer's key and uploads them. Plaintext exists only in this process's memory and, when the agent
/// has a GPU, in device memory that is zeroed before it is freed; the activations a cached model keeps
/// between runs are zeroed when the unit ends.
/// </summary>
public sealed class ModelUnitRunner(ModelCache models, LeaseBlobs blobs, EnclaveKey enclave, InferenceDevice device, Connection.AgentTokenSource signer, IOptions<AgentOptions> options)
{
    /// <summary>Most input bytes one batch of rows may take.</summary>
    public const long BatchBytes = 16L << 20;

    /// <summary>Bytes fetched to read a sealed header (enough for the most recipients a header may hold).</summary>
    private const int HeaderProbe = 8192;

    public async Task<UnitResult> RunAsync(WorkAssignment assignment, Action<int, int> reportProgress, CancellationToken cancellationToken)
    {
        var spec = assignment.ModelRun ?? throw new ArgumentException("Not a model unit.", nameof(assignment));
        using var lease = await models.GetAsync(assignment.LeaseId, spec, cancellationToken);
        var model = lease.Model;
        model.MaxRunMemoryBytes = options.Value.MaxRunMemoryBytes ?? OnnxModel.DefaultRunMemoryBytes;

        Task<byte[]> Fetch(long offset, int length, CancellationToken ct) => blobs.ReadAsync(assignment.LeaseId, spec.DatasetBlobId, offset, length, ct);
        var probe = await Fetch(0, (int)Math.Min(HeaderProbe, spec.DatasetSize), cancellationToken);
        var header = await SealedHeader.ReadAsync(new MemoryStream(probe), cancellationToken);
        var fileKey = KeyGrant.Unwrap(spec.DatasetGrant, header, enclave.Key, spec.OutputRecipientKey);
        using var reader = new SealedRangeReader(Fetch, header, fileKey, spec.DatasetSize);
        var digestKey = OutputStatement.DigestKey(fileKey);
        CryptographicOperations.ZeroMemory(fileKey);
        Task<byte[]> Read(long offset, int length) => reader.ReadAsync(offset, length, cancellationToken);

        var entries = await Safetensors.ReadHeaderAsync(Read, reader.Length);
        var inputs = model.Inputs.Select(name => entries.FirstOrDefault(e => e.Name == name)
            ?? throw new ModelException($"The model needs an input named '{name}'; the dataset holds {string.Join(", ", entries.Select(e => $"'{e.Name}'"))}.")).ToList();
        var rowBytes = Math.Max(1, inputs.Sum(e => e.RowBytes));
        var batch = (int)Math.Clamp(BatchBytes / rowBytes, 1, spec.RowCount);

        var outputs = model.Outputs.ToDictionary(n => n, _ => new List<Tensor>(), StringComparer.Ordinal);
        var deviceTime = new Stopwatch();
        long flops = 0;
        try
        {
            for (var done = 0; done < spec.RowCount;)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var count = Math.Min(batch, spec.RowCount - done);
                var feeds = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var entry in inputs)
                {
                    feeds[entry.Name] = await Safetensors.ReadRowsAsync(entry, spec.FirstRow + done, count, Read);
                }

                deviceTime.Start();
                var result = device.Run(model, feeds, out var batchFlops, out _);
                deviceTime.Stop();
                flops += batchFlops;
                if (spec.FlopsPerRow is { } perRow && Math.Abs(batchFlops - (perRow * count)) > count)
                {
                    // The figure is rounded down per row; anything further off is a different count.
                    throw new ModelException($"This agent counts {batchFlops / count:N0} FLOPs per row of the model; the job is priced at {perRow:N0}, as its first unit counted. Refusing the unit rather than run it at a price it did not count.");
                }

                foreach (var (name, tensor) in result)
                {
                    if (tensor.Rank == 0 || tensor.Shape[0] != count)
                    {
                        throw new ModelException($"The model's output '{name}' has shape {tensor}; a row model must give one output row per input row ({count}).");
                    }

                    outputs[name].Add(tensor);
                }

                foreach (var feed in feeds.Values)
                {
                    Wipe(feed);
                }

                done += count;
                reportProgress(done, spec.RowCount);
            }
        }
        finally
        {
            // The model stays cached for the job's next unit; this unit's activations do not stay with it.
            model.FillActivations(0f);
        }

        var joined = outputs.ToDictionary(o => o.Key, o => Concatenate(o.Value), StringComparer.Ordinal);
        var plain = TensorFiles.WriteSafetensors(joined);

        // What the portal compares when the unit also ran elsewhere: the engine gives the same bits on
        // one backend whatever the thread count, so honest agents sign the same digest (keyed, so the
        // portal cannot test guesses of the output against it).
        var plainDigest = OutputStatement.Digest(digestKey, plain);
        CryptographicOperations.ZeroMemory(digestKey);
        foreach (var tensor in joined.Values.Concat(outputs.Values.SelectMany(parts => parts)))
        {
            Wipe(tensor);
        }

        using var sealedOutput = new MemoryStream();
        await SealedEnvelope.SealAsync(new MemoryStream(plain), sealedOutput, [spec.OutputRecipientKey], "output", Guid.NewGuid(), cancellationToken: cancellationToken);
        CryptographicOperations.ZeroMemory(plain);
        var uploaded = await blobs.UploadOutputAsync(assignment.LeaseId, sealedOutput.ToArray(), cancellationToken);

        var seconds = Math.Max(deviceTime.Elapsed.TotalSeconds, 1e-9);
        return new UnitResult
        {
            LeaseId = assignment.LeaseId,
            OutputDigest = uploaded.Digest,
            OutputBlobId = uploaded.BlobId,
            Verified = true,
            Flops = flops,
            DeviceMilliseconds = deviceTime.Elapsed.TotalMilliseconds,
            Gflops = flops / seconds / 1e9,
            DeviceName = device.Name,
            PlainDigest = plainDigest,
            PlainDigestSignature = signer.SignOutputDigest(assignment.LeaseId, plainDigest),
        };
    }

    /// <summary>Zeroes a tensor of the developer's (rows read, outputs written) before it is let go.</summary>
    private static void Wipe(Tensor t)
    {
        t.Data.AsSpan().Clear();
        t.Longs.AsSpan().Clear();
        t.Bools.AsSpan().Clear();
    }

    private static Tensor Concatenate(List<Tensor> parts)
    {
        if (parts.Count == 1)
        {
            return parts[0];
        }

        var rows = parts.Sum(p => p.Shape[0]);
        var data = new float[parts.Sum(p => p.Data.Length)];
        var at = 0;
        foreach (var p in parts)
        {
            p.Data.CopyTo(data, at);
            at += p.Data.Length;
        }

        return new Tensor([rows, .. parts[0].Shape[1..]], data);
    }
}
