namespace Platform.Engines.Users;

/// <summary>Hashes and verifies passwords.</summary>
public interface IPasswordHasher
{
    string Hash(string password);

    bool Verify(string password, string hash);
}

/// <summary>Hashes passwords with bcrypt at the configured work factor (12 unless configured higher).</summary>
internal sealed class BcryptPasswordHasher(EngineOptions options) : IPasswordHasher
{
    public string Hash(string password) => BCrypt.Net.BCrypt.EnhancedHashPassword(password, options.BcryptWorkFactor);

    public bool Verify(string password, string hash)
    {
        try
        {
            return BCrypt.Net.BCrypt.EnhancedVerify(password, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }
}
