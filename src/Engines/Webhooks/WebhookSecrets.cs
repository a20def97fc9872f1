namespace Platform.Engines.Webhooks;

public static class WebhookSecrets { public const string Purpose = "Platform.Webhooks.Secret.v1"; }
