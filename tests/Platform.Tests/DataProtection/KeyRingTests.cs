using System.Security.Cryptography;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OtpNet;
using Platform.Engines.DataProtection;
using Platform.Engines.Operators;

namespace Platform.Tests.DataProtection;

/// <summary>Checks ADR 0196: the Data Protection key ring lives in PostgreSQL, shared by separate containers, its key material encrypted with the configured key.</summary>
public sealed class KeyRingTests
{
    private const string TotpPurpose = "Platform.Operators.TotpSecret.v1";

    [Test]
    public async Task A_totp_secret_protected_by_one_instance_opens_in_another_container_on_the_same_database()
    {
        var secret = TotpSecrets.NewSecret();
        string stored;
        await using (var first = TestEngines.Build())
        {
            stored = first.GetRequiredService<TotpSecrets>().Protect(secret);
        }
        await using var second = TestEngines.Build();
        var code = new Totp(Base32Encoding.ToBytes(secret)).ComputeTotp(DateTime.UtcNow);
        Assert.Multiple(() =>
        {
            Assert.That(second.GetRequiredService<TotpSecrets>().MatchStep(stored, code), Is.Not.Null);
            Assert.That(second.GetRequiredService<IDataProtectionProvider>().CreateProtector(TotpPurpose).Unprotect(stored), Is.EqualTo(secret));
        });
    }

    [Test]
    public async Task The_stored_key_ring_holds_key_material_only_in_its_aes_gcm_encrypted_form()
    {
        await using (var engines = TestEngines.Build())
        {
            engines.GetRequiredService<TotpSecrets>().Protect(TotpSecrets.NewSecret());
        }
        var rows = await KeyRowsAsync();
        var kekId = KeyEncryptionKeys.IdOf(Convert.FromBase64String(DatabaseFixture.KeyEncryptionKey));
        Assert.That(rows, Is.Not.Empty);
        await using var services = TestEngines.Build();
        foreach (var xml in rows.Where(x => x.StartsWith("<key", StringComparison.Ordinal)))
        {
            var encrypted = XElement.Parse(xml).Descendants("aesGcmEncryptedSecret").ToList();
            Assert.Multiple(() =>
            {
                Assert.That(xml, Does.Not.Contain("masterKey"), "the master key element is only inside the ciphertext");
                Assert.That(xml, Does.Not.Contain("unencrypted form"));
                Assert.That(encrypted, Has.Count.EqualTo(1));
                Assert.That((string?)encrypted[0].Attribute("kek"), Is.EqualTo(kekId));
            });
            // Decrypting shows what the ciphertext hides: the master key, whose value appears nowhere in the stored text.
            var plain = new AesGcmXmlDecryptor(services).Decrypt(encrypted[0]);
            var masterKey = plain.DescendantsAndSelf().Single(e => e.Name.LocalName == "value").Value;
            Assert.That(Convert.FromBase64String(masterKey), Has.Length.GreaterThanOrEqualTo(32));
            Assert.That(xml, Does.Not.Contain(masterKey));
        }
    }

    [Test]
    public async Task A_wrong_key_encryption_key_fails_to_unprotect_clearly_and_writes_no_new_key()
    {
        string stored;
        await using (var first = TestEngines.Build())
        {
            stored = first.GetRequiredService<IDataProtectionProvider>().CreateProtector(TotpPurpose).Protect("JBSWY3DPEHPK3PXP");
        }
        var before = await KeyRowsAsync();
        var wrong = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var other = TestEngines.Build(new() { ["DataProtection:KeyEncryptionKey"] = wrong });

        var error = Assert.Throws<CryptographicException>(() =>
            other.GetRequiredService<IDataProtectionProvider>().CreateProtector(TotpPurpose).Unprotect(stored));
        var messages = string.Join(" | ", Chain(error!).Select(e => e.Message));
        var after = await KeyRowsAsync();
        Assert.Multiple(() =>
        {
            Assert.That(messages, Does.Contain("DataProtection:KeyEncryptionKey"));
            Assert.That(messages, Does.Contain(KeyEncryptionKeys.IdOf(Convert.FromBase64String(DatabaseFixture.KeyEncryptionKey))));
            Assert.That(after, Is.EqualTo(before), "no key was created under the wrong key encryption key");
        });
    }

    [Test]
    public async Task After_a_rotation_the_old_key_encryption_key_still_opens_what_was_protected_before()
    {
        string stored;
        await using (var first = TestEngines.Build())
        {
            stored = first.GetRequiredService<IDataProtectionProvider>().CreateProtector(TotpPurpose).Protect("JBSWY3DPEHPK3PXP");
        }
        var next = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var rotated = TestEngines.Build(new()
        {
            ["DataProtection:KeyEncryptionKey"] = next,
            ["DataProtection:OldKeyEncryptionKeys"] = DatabaseFixture.KeyEncryptionKey,
        });
        Assert.That(rotated.GetRequiredService<IDataProtectionProvider>().CreateProtector(TotpPurpose).Unprotect(stored), Is.EqualTo("JBSWY3DPEHPK3PXP"));
    }

    [Test]
    public async Task Keys_of_the_former_key_folder_are_imported_once_encrypted_so_earlier_secrets_still_open()
    {
        var folder = Directory.CreateTempSubdirectory("platform-dp-");
        try
        {
            var legacy = new ServiceCollection();
            legacy.AddDataProtection().SetApplicationName("platform").PersistKeysToFileSystem(folder);
            string stored;
            await using (var old = legacy.BuildServiceProvider())
            {
                stored = old.GetRequiredService<IDataProtectionProvider>().CreateProtector(TotpPurpose).Protect("JBSWY3DPEHPK3PXP");
            }
            var keyName = Path.GetFileNameWithoutExtension(folder.GetFiles("*.xml").Single().Name);

            await using var engines = TestEngines.Build(new() { ["DataProtection:KeysFolder"] = folder.FullName });
            var opened = engines.GetRequiredService<IDataProtectionProvider>().CreateProtector(TotpPurpose).Unprotect(stored);
            var row = await OwnerSql.ScalarAsync<string>("SELECT xml FROM data_protection_keys WHERE name = @n", null, ("n", keyName));
            Assert.Multiple(() =>
            {
                Assert.That(opened, Is.EqualTo("JBSWY3DPEHPK3PXP"));
                Assert.That(row, Does.Contain("aesGcmEncryptedSecret").And.Not.Contain("masterKey"));
            });
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Test]
    public void The_engines_refuse_to_start_without_a_key_encryption_key_where_one_is_required()
    {
        // Outside Development the key is required: the container refuses to come up, as a host refuses to start (ValidateOnStart).
        var error = Assert.Throws<OptionsValidationException>(() => TestEngines.Build(new() { ["DataProtection:KeyEncryptionKey"] = "" }, environment: "Production"));
        Assert.That(error!.Message, Does.Contain("DataProtection:KeyEncryptionKey"));
    }

    private static IEnumerable<Exception> Chain(Exception e)
    {
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            yield return x;
        }
    }

    private static async Task<List<string>> KeyRowsAsync()
    {
        await using var connection = new Npgsql.NpgsqlConnection(DatabaseFixture.OwnerConnectionString);
        await connection.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT xml FROM data_protection_keys ORDER BY name", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        while (await reader.ReadAsync())
        {
            rows.Add(reader.GetString(0));
        }
        return rows;
    }
}
