using System.Security.Cryptography;
using System.Text;
using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.XmlEncryption;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Engines.DataProtection;

/// <summary>Encrypts a Data Protection key's secret element with AES-256-GCM under the current key encryption key.</summary>
/// <remarks>The output is <c>&lt;aesGcmEncryptedSecret kek="id" nonce="b64" tag="b64"&gt;ciphertext b64&lt;/aesGcmEncryptedSecret&gt;</c>; the key id and a fixed label are the associated data (ADR 0196).</remarks>
internal sealed class AesGcmXmlEncryptor(KeyEncryptionKeys keys) : IXmlEncryptor
{
    public EncryptedXmlInfo Encrypt(XElement plaintextElement)
    {
        var key = keys.Current ?? throw new InvalidOperationException("DataProtection:KeyEncryptionKey is not set.");
        var kekId = keys.CurrentId!;
        var plaintext = Encoding.UTF8.GetBytes(plaintextElement.ToString(SaveOptions.DisableFormatting));
        var nonce = RandomNumberGenerator.GetBytes(AesGcm.NonceByteSizes.MaxSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[AesGcm.TagByteSizes.MaxSize];
        using (var aes = new AesGcm(key, tag.Length))
        {
            aes.Encrypt(nonce, plaintext, ciphertext, tag, AesGcmXml.AssociatedData(kekId));
        }
        CryptographicOperations.ZeroMemory(plaintext);
        var element = new XElement(AesGcmXml.ElementName,
            new XAttribute("kek", kekId),
            new XAttribute("nonce", Convert.ToBase64String(nonce)),
            new XAttribute("tag", Convert.ToBase64String(tag)),
            new XComment(" Data Protection key material, AES-256-GCM under DataProtection:KeyEncryptionKey "),
            Convert.ToBase64String(ciphertext));
        return new EncryptedXmlInfo(element, typeof(AesGcmXmlDecryptor));
    }
}

/// <summary>Decrypts what AesGcmXmlEncryptor wrote, with the current or an old key encryption key named by the element.</summary>
/// <remarks>Data Protection creates it by its type name with the service provider, so it finds the keys there.</remarks>
public sealed class AesGcmXmlDecryptor(IServiceProvider services) : IXmlDecryptor
{
    public XElement Decrypt(XElement encryptedElement)
    {
        if (encryptedElement.Name != AesGcmXml.ElementName)
        {
            throw new CryptographicException($"Expected an {AesGcmXml.ElementName.LocalName} element, found {encryptedElement.Name.LocalName}.");
        }
        var kekId = (string?)encryptedElement.Attribute("kek") ?? throw new CryptographicException("The encrypted key has no kek attribute.");
        var key = services.GetRequiredService<KeyEncryptionKeys>().Find(kekId)
            ?? throw new CryptographicException(
                $"The Data Protection key ring was encrypted with key encryption key {kekId}, which is neither DataProtection:KeyEncryptionKey nor one of DataProtection:OldKeyEncryptionKeys.");
        var nonce = Convert.FromBase64String((string?)encryptedElement.Attribute("nonce") ?? "");
        var tag = Convert.FromBase64String((string?)encryptedElement.Attribute("tag") ?? "");
        var ciphertext = Convert.FromBase64String(string.Concat(encryptedElement.Nodes().OfType<XText>().Select(t => t.Value)).Trim());
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using var aes = new AesGcm(key, tag.Length);
            aes.Decrypt(nonce, ciphertext, tag, plaintext, AesGcmXml.AssociatedData(kekId));
            return XElement.Parse(Encoding.UTF8.GetString(plaintext));
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new CryptographicException($"The Data Protection key ring element does not decrypt under key encryption key {kekId} (tampered or a wrong key).", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }
}

/// <summary>Holds the names shared by the AES-GCM encryptor and decryptor.</summary>
internal static class AesGcmXml
{
    public static readonly XName ElementName = "aesGcmEncryptedSecret";

    public static byte[] AssociatedData(string kekId) => Encoding.UTF8.GetBytes("Platform.DataProtection.KeyRing.v1:" + kekId);
}
