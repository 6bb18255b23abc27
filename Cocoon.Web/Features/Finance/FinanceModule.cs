namespace Cocoon.Web.Features.Finance;

public static class FinanceModule
{
    public static void AddCocoonFinance(this WebApplicationBuilder builder) => builder.Services.AddSingleton<FinanceQueries>();
}
