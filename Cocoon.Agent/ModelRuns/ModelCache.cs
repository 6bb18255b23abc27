using System.Security.Cryptography;
using Cocoon.Agent.Connection;
using Cocoon.Agent.Inference;
using Cocoon.Shared.Sealing;
using Cocoon.Shared.Work;

namespace Cocoon.Agent.ModelRuns;

/// <summary>
/// Models by ciphertext digest: the sealed file is kept on disk (it is ciphertext, so it may rest
/// there), checked against its digest after download; the decrypted, loaded model is kept in memory
/// only, for the last few models used, and never written anywhere. A model leaving memory is wiped
/// (<see cref="OnnxModel.Wipe"/>) once the last unit running it is done.
/// </summary>
public sealed class ModelCache(AgentIdentity identity, LeaseBlobs blobs, EnclaveKey enclave) : IDisposable
{
    private const int InMemory = 2;
    /// <summary>One download and load at a time (held across them).</summary>
    private readonly SemaphoreSlim _lock = new(1, 1);

    /// <summary>Guards the list of loaded models and their users (never held across I/O).</summary>
    private readonly Lock _entries = new();
    private readonly LinkedList<Entry> _loaded = new();

    /// <summary>A loaded model and how many units are running it; wiped when evicted and no longer used.</summary>
    internal sealed class Entry(string digest, OnnxModel model)
    {
        public string Digest { get; } = digest;

        public OnnxModel Model { get; } = model;

        public int Users { get; set; }

        public bool Evicted { get; set; }
    }

    /// <summary>A model held for one unit; disposing it lets the cache wipe the model once it is evicted.</summary>
    public sealed class Lease : IDisposable
    {
        private readonly ModelCache _cache;
        private readonly Entry _entry;
        private bool _disposed;

        internal Lease(ModelCache cache, Entry entry) => (_cache, _entry) = (cache, entry);

        public OnnxModel Model => _entry.Model;

        public void Dispose()
        {
            if (!_disposed)
            {
                _disposed = true;
                _cache.Release(_entry);
            }
        }
    }

    private void Release(Entry entry)
    {
        lock (_entries)
        {
            if (--entry.Users == 0 && entry.Evicted)
            {
                entry.Model.Wipe();
            }
        }
    }

    private Lease Hold(Entry entry)
    {
        lock (_entries)
        {
            entry.Users++;
            return new Lease(this, entry);
        }
    }

    /// <summary>Marks an entry gone from the cache; wiped now if no unit runs it, else by the last one to let it go.</summary>
    private static void Evict(Entry entry)
    {
        entry.Evicted = true;
        if (entry.Users == 0)
        {
            entry.Model.Wipe();
        }
    }

    public async Task<Lease> GetAsync(Guid leaseId, ModelRunSpec spec, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(spec);
        await _lock.WaitAsync(cancellationToken);
        try
        {
            Entry? hit;
            lock (_entries)
            {
                hit = _loaded.FirstOrDefault(e => e.Digest == spec.ModelDigest);
            }

            var file = await SealedFileAsync(leaseId, spec, cancellationToken);
            await using var sealedModel = File.OpenRead(file);
            var header = await SealedHeader.ReadAsync(sealedModel, cancellationToken);
            // The grant is opened even on a memory hit: holding the model must not stand in for being granted it.
            var fileKey = KeyGrant.Unwrap(spec.ModelGrant, header, enclave.Key, spec.OutputRecipientKey);
            try
            {
                if (hit is not null)
                {
                    return Hold(hit);
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

                var entry = new Entry(spec.ModelDigest, model);
                var lease = Hold(entry);
                lock (_entries)
                {
                    _loaded.AddFirst(entry);
                    while (_loaded.Count > InMemory)
                    {
                        Evict(_loaded.Last!.Value);
                        _loaded.RemoveLast();
                    }
                }

                return lease;
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

    /// <summary>Wipes the models no unit is running; one still running is wiped when its unit lets it go.</summary>
    public void Dispose()
    {
        lock (_entries)
        {
            foreach (var entry in _loaded)
            {
                Evict(entry);
            }

            _loaded.Clear();
        }
    }
}
