using System.Security.Cryptography;
using Cocoon.Agent.Connection;
using Cocoon.Agent.Inference;
using Cocoon.Shared.Sealing;
using Cocoon.Shared.Work;

namespace Cocoon.Agent.ModelRuns;

/// <summary>
/// Models by ciphertext digest: the sealed file is kept on disk (it is ciphertext, so it may rest
/// there), checked against its digest after download; the decrypted, loaded model is kept in memory
/// only, for the last few models used, and never written anywhere.
/// </summary>
public sealed class ModelCache(AgentIdentity identity, LeaseBlobs blobs, EnclaveKey enclave) : IDisposable
{
    private const int InMemory = 2;
    private readonly SemaphoreSlim _lock = new(1, 1);
    private readonly LinkedList<(string Digest, OnnxModel Model)> _loaded = new();

    public async Task<OnnxModel> GetAsync(Guid leaseId, ModelRunSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            var hit = _loaded.FirstOrDefault(e => e.Digest == spec.ModelDigest);
            var file = await SealedFileAsync(leaseId, spec, cancellationToken);
            await using var sealedModel = File.OpenRead(file);
            var header = await SealedHeader.ReadAsync(sealedModel, cancellationToken);
            // The grant is opened even on a memory hit: holding the model must not stand in for being granted it.
            var fileKey = KeyGrant.Unwrap(spec.ModelGrant, header, enclave.Key, spec.OutputRecipientKey);
            try
            {
                if (hit.Model is not null)
                {
                    return hit.Model;
                }

                // The ciphertext left after the header bounds the plaintext: one buffer of that size,
                // not a doubling one that could hold the model twice over. The loader reads each weight
                // from it straight into the weight's array, and the plaintext is wiped whatever happens.
                using var plain = new MemoryStream((int)Math.Min(sealedModel.Length - sealedModel.Position, Array.MaxLength));
                OnnxModel model;
                try
                {
                    await SealedEnvelope.OpenPayloadAsync(header, fileKey, sealedModel, plain, cancellationToken);
                    model = OnnxModel.Load(plain.GetBuffer().AsMemory(0, (int)plain.Length));
                }
                finally
                {
                    CryptographicOperations.ZeroMemory(plain.GetBuffer());
                }

                _loaded.AddFirst((spec.ModelDigest, model));
                while (_loaded.Count > InMemory)
                {
                    _loaded.RemoveLast();
                }

                return model;
            }
            finally
            {
                CryptographicOperations.ZeroMemory(fileKey);
            }
        }
        finally
        {
            _lock.Release();
        }
    }

    private async Task<string> SealedFileAsync(Guid leaseId, ModelRunSpec spec, CancellationToken cancellationToken)
    {
        if (spec.ModelDigest.Length != 64 || !spec.ModelDigest.All(char.IsAsciiHexDigitLower))
        {
            throw new ModelException("The assignment names a model digest that is not lower-case SHA-256 hex.");
        }

        var directory = Path.Combine(identity.DataDirectory, "model-cache");
        Directory.CreateDirectory(directory);
        var file = Path.Combine(directory, spec.ModelDigest + ".sealed");
        if (File.Exists(file))
        {
            return file;
        }

        var partial = file + "." + Guid.NewGuid().ToString("N") + ".part";
        try
        {
            await using (var output = File.Create(partial))
            {
                await blobs.DownloadAsync(leaseId, spec.ModelBlobId, output, cancellationToken);
            }

            string digest;
            await using (var check = File.OpenRead(partial))
            {
                digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(check, cancellationToken));
            }

            if (digest != spec.ModelDigest)
            {
                throw new SealedDataException($"The model downloaded has digest {digest[..12]}…, not the {spec.ModelDigest[..12]}… the job names.");
            }

            File.Move(partial, file, overwrite: true);
            return file;
        }
        finally
        {
            File.Delete(partial);
        }
    }

    public void Dispose() => _lock.Dispose();
}
