namespace Platform.Models.Billing;

/// <summary>Describes where an invoice is: draft (not issued), open (issued, unpaid), paid, void (withdrawn) or uncollectible (written off).</summary>
[WireEnum]
public enum InvoiceStatus
{
    Draft,
    Open,
    Paid,
    Void,
    Uncollectible,
}
