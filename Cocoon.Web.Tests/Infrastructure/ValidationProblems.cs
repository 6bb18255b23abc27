using System.Net;
using System.Net.Http.Json;
using System.Text.Json;

namespace Cocoon.Web.Tests.Infrastructure;

/// <summary>Reads a 400 validation problem: the one field it names, or what it says of a field.</summary>
public static class ValidationProblems
{
    public static async Task<string> ErrorFieldAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        return Assert.Single(errors.EnumerateObject()).Name;
    }

    public static async Task<string> ErrorTextAsync(HttpResponseMessage response, string field)
    {
        ArgumentNullException.ThrowIfNull(response);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        return string.Join(" ", errors.GetProperty(field).EnumerateArray().Select(e => e.GetString()));
    }
}
