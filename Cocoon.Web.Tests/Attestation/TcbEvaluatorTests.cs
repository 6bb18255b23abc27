using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Cocoon.Shared.Attestation;
using Cocoon.Shared.Attestation.Collateral;
using Level = Cocoon.Web.Tests.Attestation.TdxQuoteBuilder.Level;

namespace Cocoon.Web.Tests.Attestation;

/// <summary>
/// A TDX platform judged by Intel's collateral: the real quotes in Fixtures with the collateral
/// captured for them (the same answers Intel's libraries give), then quotes and collateral of the
/// test's choosing for every refusal.
/// </summary>
public sealed class TcbEvaluatorTests
{
    private static readonly DateTimeOffset Issued = new(2026, 11, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Now = Issued.AddDays(3);

    [Theory]
    [InlineData("tdx-v4-quote.hex", "2025-09-10", "20a06f000000", TcbStatus.UpToDate)]
    [InlineData("tdx-quote-b0c06f.bin", "2025-06-25", "b0c06f000000", TcbStatus.UpToDate)]
    public void Real_quotes_are_judged_by_their_real_collateral(string quoteFile, string at, string fmspc, TcbStatus expected)
    {
        var now = DateTimeOffset.Parse(at + "T00:00:00Z", System.Globalization.CultureInfo.InvariantCulture);
        var (quote, collateral) = RealPair(quoteFile, now);

        var verdict = TcbEvaluator.Evaluate(quote, collateral, TdxQuoteVerifier.IntelRoot, now);

        Assert.Equal(expected, verdict.Status);
        Assert.Equal(fmspc, verdict.Fmspc);
        Assert.False(verdict.Stale);
        Assert.Empty(verdict.AdvisoryIds);

        // A month later the same collateral is stale: still judged, and said to be stale.
        Assert.True(TcbEvaluator.Evaluate(quote, collateral, TdxQuoteVerifier.IntelRoot, now.AddDays(40)).Stale);
    }

    [Fact]
    public void A_td_15_quote_version_5_is_refused_by_name()
    {
        var raw = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Attestation", "Fixtures", "tdx-quote-v5.bin"));
        Assert.Contains("version 5 is not supported", Assert.Throws<AttestationException>(() => TdxQuoteVerifier.Verify(raw, TdxQuoteVerifier.IntelRoot, Now)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Real_collateral_altered_or_for_another_platform_is_refused()
    {
        var now = new DateTimeOffset(2025, 9, 10, 0, 0, 0, TimeSpan.Zero);
        var (quote, collateral) = RealPair("tdx-v4-quote.hex", now);
        var fixture = Collateral("tdx-v4-quote.hex");

        var upgraded = fixture.GetProperty("tcb_info").GetString()!.Replace("\"OutOfDate\"", "\"UpToDate\"", StringComparison.Ordinal);
        var forged = collateral with { TcbInfo = TcbInfo.Parse(Document("tcbInfo", upgraded, fixture.GetProperty("tcb_info_signature").GetString()!), fixture.GetProperty("tcb_info_issuer_chain").GetString()!) };
        Assert.Contains("signature does not verify", Refusal(quote, forged, TdxQuoteVerifier.IntelRoot, now), StringComparison.Ordinal);

        var (_, other) = RealPair("tdx-quote-b0c06f.bin", now);
        Assert.Contains("FMSPC", Refusal(quote, collateral with { TcbInfo = other.TcbInfo }, TdxQuoteVerifier.IntelRoot, now), StringComparison.Ordinal);

        using var builder = new TdxQuoteBuilder();
        Assert.Contains("trusted Intel root", Refusal(quote, collateral, builder.Root, now), StringComparison.Ordinal);
    }

    [Fact]
    public void A_platform_at_the_current_level_is_up_to_date_and_the_highest_level_it_reaches_decides()
    {
        using var intel = new TdxQuoteBuilder(cpuSvn: 5, pceSvn: 11);
        var quote = Quote(intel);
        Assert.Equal(TcbStatus.UpToDate, TcbEvaluator.Evaluate(quote, intel.Collateral(Issued), intel.Root, Now).Status);

        // Intel publishes a recovery the platform has not applied: the level it reaches is OutOfDate, with its advisories.
        var levels = new[] { new Level(6, 11, 3, "UpToDate"), new Level(5, 11, 3, "OutOfDate", ["INTEL-SA-01010"]) };
        var verdict = TcbEvaluator.Evaluate(quote, intel.Collateral(Issued, levels), intel.Root, Now);
        Assert.Equal(TcbStatus.OutOfDate, verdict.Status);
        Assert.Equal(["INTEL-SA-01010"], verdict.AdvisoryIds);

        // The TDX module's SVNs count too: the SGX side reaches the top level, the TD's TEE_TCB_SVN only the second.
        levels = [new Level(5, 11, 4, "UpToDate"), new Level(5, 11, 3, "SWHardeningNeeded", ["INTEL-SA-00999"])];
        Assert.Equal(TcbStatus.SWHardeningNeeded, TcbEvaluator.Evaluate(quote, intel.Collateral(Issued, levels), intel.Root, Now).Status);

        // Below every level, and a PCE below the level's: not supported.
        Assert.Equal(TcbStatus.TcbNotSupported, TcbEvaluator.Evaluate(quote, intel.Collateral(Issued, [new Level(6, 11, 3, "UpToDate")]), intel.Root, Now).Status);
        Assert.Equal(TcbStatus.TcbNotSupported, TcbEvaluator.Evaluate(quote, intel.Collateral(Issued, [new Level(5, 12, 3, "UpToDate")]), intel.Root, Now).Status);
    }

    [Fact]
    public void The_module_identity_and_the_quoting_enclave_converge_into_the_status()
    {
        using var intel = new TdxQuoteBuilder();
        var collateral = intel.Collateral(Issued);
        byte[] Tee(byte minor, byte major)
        {
            var svn = TdxQuoteBuilder.Svns(3);
            (svn[0], svn[1]) = (minor, major);
            return svn;
        }

        // Module major version 1: judged by identity TDX_01, whose SVN 2–3 is OutOfDate and 4 and up current.
        Assert.Equal(TcbStatus.UpToDate, TcbEvaluator.Evaluate(Quote(intel, teeTcbSvn: Tee(4, 1)), collateral, intel.Root, Now).Status);
        Assert.Equal(TcbStatus.OutOfDate, TcbEvaluator.Evaluate(Quote(intel, teeTcbSvn: Tee(2, 1)), collateral, intel.Root, Now).Status);
        Assert.Equal(TcbStatus.TcbNotSupported, TcbEvaluator.Evaluate(Quote(intel, teeTcbSvn: Tee(1, 1)), collateral, intel.Root, Now).Status);
        Assert.Contains("TDX_07", Refusal(Quote(intel, teeTcbSvn: Tee(4, 7)), collateral, intel.Root, Now), StringComparison.Ordinal);

        // The Quoting Enclave: an old one makes an up-to-date platform OutOfDate; one below every level is not supported; another signer is refused.
        var oldQe = TcbEvaluator.Evaluate(Quote(intel, qeSvn: 5), collateral, intel.Root, Now);
        Assert.Equal(TcbStatus.OutOfDate, oldQe.Status);
        Assert.Contains("INTEL-SA-00837", oldQe.AdvisoryIds);
        Assert.Equal(TcbStatus.TcbNotSupported, TcbEvaluator.Evaluate(Quote(intel, qeSvn: 2), collateral, intel.Root, Now).Status);
        Assert.Contains("TD QE signer", Refusal(Quote(intel, qeMrSigner: RandomNumberGenerator.GetBytes(32)), collateral, intel.Root, Now), StringComparison.Ordinal);

        // A QE level rated anything but UpToDate or Revoked counts as out of date, as Intel's library reads it.
        var configurationNeeded = collateral with { QeIdentity = QeIdentity.Parse(intel.QeIdentity(Issued, currentStatus: "ConfigurationNeeded"), intel.TcbChainPem) };
        Assert.Equal(TcbStatus.OutOfDate, TcbEvaluator.Evaluate(Quote(intel), configurationNeeded, intel.Root, Now).Status);
    }

    [Fact]
    public void Revocation_forgery_and_dates_are_enforced()
    {
        using var intel = new TdxQuoteBuilder();
        var quote = Quote(intel);
        var collateral = intel.Collateral(Issued);

        Assert.Contains("PCK certificate is revoked", Refusal(quote, collateral with { PckCrl = RevocationList.Parse(intel.PckCrl(Issued, revokePck: true)) }, intel.Root, Now), StringComparison.Ordinal);
        Assert.Contains("TCB Signing certificate is revoked", Refusal(quote, collateral with { RootCrl = RevocationList.Parse(intel.RootCrl(Issued, revokeSigner: true)) }, intel.Root, Now), StringComparison.Ordinal);
        Assert.Contains("not by the CA", Refusal(quote, collateral with { PckCrl = collateral.RootCrl }, intel.Root, Now), StringComparison.Ordinal);
        Assert.Contains("root CA's revocation list", Refusal(quote, collateral with { RootCrl = collateral.PckCrl }, intel.Root, Now), StringComparison.Ordinal);

        var levels = new[] { new Level(6, 11, 3, "UpToDate"), new Level(5, 11, 3, "OutOfDate") };
        var tampered = TcbInfo.Parse(intel.TcbInfo(Issued, levels, tamper: true), intel.TcbChainPem);
        Assert.Contains("signature does not verify", Refusal(quote, collateral with { TcbInfo = tampered }, intel.Root, Now), StringComparison.Ordinal);

        // Signed by someone else's TCB Signing key: their chain does not end in this root.
        using var stranger = new TdxQuoteBuilder();
        Assert.Contains("trusted Intel root", Refusal(quote, collateral with { QeIdentity = QeIdentity.Parse(stranger.QeIdentity(Issued), stranger.TcbChainPem) }, intel.Root, Now), StringComparison.Ordinal);

        Assert.Contains("in the future", Refusal(quote, intel.Collateral(Now.AddDays(2)), intel.Root, Now), StringComparison.Ordinal);
        var stale = TcbEvaluator.Evaluate(quote, collateral, intel.Root, Issued.AddDays(31));
        Assert.True(stale.Stale);
        Assert.Equal(Issued.AddDays(30), stale.CollateralNextUpdate);
    }

    [Fact]
    public void Documents_that_are_not_intels_shape_are_refused_with_a_reason()
    {
        using var intel = new TdxQuoteBuilder();
        Assert.Contains("does not parse", Assert.Throws<AttestationException>(() => TcbInfo.Parse(System.Text.Encoding.UTF8.GetBytes("{\"tcbInfo\":{\"id\":\"TDX\"},\"signature\":\"" + new string('0', 128) + "\"}"), intel.TcbChainPem)).Message, StringComparison.Ordinal);
        Assert.Contains("no 'tcbInfo'", Assert.Throws<AttestationException>(() => TcbInfo.Parse(intel.QeIdentity(Issued), intel.TcbChainPem)).Message, StringComparison.Ordinal);
        Assert.Contains("issuer chain", Assert.Throws<AttestationException>(() => QeIdentity.Parse(intel.QeIdentity(Issued), "")).Message, StringComparison.Ordinal);
        Assert.Throws<AttestationException>(() => RevocationList.Parse("not a CRL"u8));
        Assert.Throws<AttestationException>(() => RevocationList.Parse([0x30, 0x03, 0x02, 0x01, 0x01]));
        Assert.Contains("does not parse", Assert.Throws<AttestationException>(() => RevocationList.Parse("-----BEGIN X509 CRL-----\n!!not base64!!\n-----END X509 CRL-----"u8)).Message, StringComparison.Ordinal);

        // An SVN Intel could never publish (over 255) is a refusal, not a crash.
        var tooHigh = Encoding.UTF8.GetString(intel.TcbInfo(Issued, [new Level(5, 11, 3, "UpToDate")])).Replace("{\"svn\":5}", "{\"svn\":300}", StringComparison.Ordinal);
        Assert.Contains("does not parse", Assert.Throws<AttestationException>(() => TcbInfo.Parse(Encoding.UTF8.GetBytes(tooHigh), intel.TcbChainPem)).Message, StringComparison.Ordinal);
        var unknownStatus = Encoding.UTF8.GetString(intel.TcbInfo(Issued, [new Level(5, 11, 3, "Mostly fine")]));
        Assert.Contains("not one Intel defines", Assert.Throws<AttestationException>(() => TcbInfo.Parse(Encoding.UTF8.GetBytes(unknownStatus), intel.TcbChainPem)).Message, StringComparison.Ordinal);
    }

    private static TdxQuote Quote(TdxQuoteBuilder intel, byte[]? teeTcbSvn = null, int qeSvn = 8, byte[]? qeMrSigner = null) =>
        TdxQuoteVerifier.Verify(intel.Build(new byte[64], new byte[48], teeTcbSvn: teeTcbSvn, qeSvn: qeSvn, qeMrSigner: qeMrSigner), intel.Root, Now);

    private static string Refusal(TdxQuote quote, TdxCollateral collateral, System.Security.Cryptography.X509Certificates.X509Certificate2 root, DateTimeOffset now) =>
        Assert.Throws<AttestationException>(() => TcbEvaluator.Evaluate(quote, collateral, root, now)).Message;

    private static (TdxQuote Quote, TdxCollateral Collateral) RealPair(string quoteFile, DateTimeOffset now)
    {
        var path = Path.Combine(AppContext.BaseDirectory, "Attestation", "Fixtures", quoteFile);
        var raw = quoteFile.EndsWith(".hex", StringComparison.Ordinal) ? Convert.FromHexString(File.ReadAllText(path).Trim()) : File.ReadAllBytes(path);
        var c = Collateral(quoteFile);
        string S(string name) => c.GetProperty(name).GetString()!;
        return (TdxQuoteVerifier.Verify(raw, TdxQuoteVerifier.IntelRoot, now), new TdxCollateral(
            TcbInfo.Parse(Document("tcbInfo", S("tcb_info"), S("tcb_info_signature")), S("tcb_info_issuer_chain")),
            QeIdentity.Parse(Document("enclaveIdentity", S("qe_identity"), S("qe_identity_signature")), S("qe_identity_issuer_chain")),
            RevocationList.Parse(Encoding.ASCII.GetBytes(S("pck_crl"))),
            RevocationList.Parse(Encoding.ASCII.GetBytes(S("root_ca_crl")))));
    }

    /// <summary>The fixture's collateral (dcap-qvl's form: the signed bodies as strings, CRLs as hex).</summary>
    internal static JsonElement Collateral(string quoteFile)
    {
        var name = Path.GetFileNameWithoutExtension(quoteFile) + ".collateral.json";
        using var document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "Attestation", "Fixtures", name)));
        return document.RootElement.Clone();
    }

    /// <summary>The document as PCS serves it: the signed body verbatim, then its signature.</summary>
    internal static byte[] Document(string member, string body, string signature) =>
        Encoding.UTF8.GetBytes($"{{\"{member}\":{body},\"signature\":\"{signature}\"}}");
}
