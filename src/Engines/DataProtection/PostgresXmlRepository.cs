using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Logging;
using Platform.Drivers.DataProtection;
using Platform.Drivers.Sessions;
using Platform.Models;

namespace Platform.Engines.DataProtection;

/// <summary>Keeps the Data Protection key ring in PostgreSQL (table data_protection_keys), shared by every API and Worker instance.</summary>
/// <remarks>Data Protection calls it synchronously and rarely (at start, when a key is created, about once a day to refresh), so it blocks
/// on the async driver. Elements arrive already encrypted by the configured IXmlEncryptor (ADR 0196).</remarks>
internal sealed partial class PostgresXmlRepository(
    IDbSessionFactory sessions, IDataProtectionKeyDriver keys, KeyEncryptionKeys keks, KeyRingOptions options, IClock clock,
    ILogger<PostgresXmlRepository> logger) : IXmlRepository
{
    private static readonly XNamespace DataProtectionNamespace = "http://schemas.asp.net/2015/03/dataProtection";
    private readonly Lock importLock = new();
    private bool imported;

    public IReadOnlyCollection<XElement> GetAllElements()
    {
        ImportLegacyFolderOnce();
        var rows = Detached(async () =>
        {
            await using var session = await sessions.OpenAsync(null, null, CancellationToken.None);
            return await keys.ListKeyElementsAsync(session, CancellationToken.None);
        });
        var elements = rows.Select(r => XElement.Parse(r.Xml)).ToList();
        RequireKeyEncryptionKeysOf(elements);
        return elements;
    }

    /// <summary>Refuses a key ring encrypted under a key encryption key this instance lacks, with the reason, before Data Protection would
    /// silently skip the keys and create new ones (which would leave every secret protected earlier unreadable).</summary>
    private void RequireKeyEncryptionKeysOf(IEnumerable<XElement> elements)
    {
        var missing = elements.SelectMany(e => e.Descendants(AesGcmXml.ElementName))
            .Select(e => (string?)e.Attribute("kek") ?? "")
            .Where(id => keks.Find(id) is null)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        if (missing.Count > 0)
        {
            throw new System.Security.Cryptography.CryptographicException(
                $"The Data Protection key ring in PostgreSQL is encrypted with key encryption key(s) {string.Join(", ", missing)}, which are neither " +
                $"DataProtection:KeyEncryptionKey ({keks.CurrentId ?? "not set"}) nor among DataProtection:OldKeyEncryptionKeys: configure the key it was written with.");
        }
    }

    public void StoreElement(XElement element, string friendlyName) =>
        Detached(async () =>
        {
            await using var session = await sessions.OpenAsync(null, null, CancellationToken.None);
            await keys.InsertKeyElementAsync(session, new StoredKeyElement(friendlyName, element.ToString(SaveOptions.DisableFormatting)), clock.UtcNow, CancellationToken.None);
            await session.CommitAsync(CancellationToken.None);
            return true;
        });

    /// <summary>Runs the key ring's database work on the thread pool without the caller's execution context, and waits for it: a key is never
    /// read or stored inside whatever the caller's flow is in, such as the start-up warm-up's rolled-back sandbox (ADR 0815), where a key
    /// created for a first Protect would be kept in memory and used while its row is rolled back.</summary>
    private static T Detached<T>(Func<Task<T>> work)
    {
        Task<T> task;
        using (ExecutionContext.SuppressFlow())
        {
            task = Task.Run(work);
        }
        return task.GetAwaiter().GetResult();
    }

    /// <summary>Copies the keys of the former key folder (DataProtection:KeysFolder) into the table once, encrypting their secrets, so that
    /// secrets protected before the key ring moved still open; keys already in the table are skipped.</summary>
    private void ImportLegacyFolderOnce()
    {
        lock (importLock)
        {
            if (imported)
            {
                return;
            }
            imported = true;
            var folder = options.KeysFolder;
            if (string.IsNullOrEmpty(folder) || !Directory.Exists(folder))
            {
                return;
            }
            var files = Directory.GetFiles(folder, "*.xml");
            if (files.Length == 0)
            {
                return;
            }
            var existing = Detached(async () =>
            {
                await using var session = await sessions.OpenAsync(null, null, CancellationToken.None);
                return await keys.ListKeyElementsAsync(session, CancellationToken.None);
            }).Select(r => r.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var file in files.Order(StringComparer.Ordinal))
            {
                var name = Path.GetFileNameWithoutExtension(file);
                if (existing.Contains(name))
                {
                    continue;
                }
                StoreElement(EncryptSecrets(XElement.Load(file)), name);
                LogImported(name, folder);
            }
        }
    }

    /// <summary>Replaces each element marked requiresEncryption with an encryptedSecret element, as Data Protection's key manager does before storing.</summary>
    private XElement EncryptSecrets(XElement key)
    {
        if (keks.Current is null)
        {
            return key;
        }
        var encryptor = new AesGcmXmlEncryptor(keks);
        var copy = new XElement(key);
        foreach (var secret in copy.Descendants().Where(e => (string?)e.Attribute(DataProtectionNamespace + "requiresEncryption") == "true").ToList())
        {
            var encrypted = encryptor.Encrypt(new XElement(secret));
            secret.ReplaceWith(new XElement(DataProtectionNamespace + "encryptedSecret",
                new XAttribute("decryptorType", encrypted.DecryptorType.AssemblyQualifiedName!),
                encrypted.EncryptedElement));
        }
        return copy;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Data Protection key {Name} imported from the former key folder {Folder} into PostgreSQL.")]
    private partial void LogImported(string name, string folder);
}
