using FluentValidation;
using MediatR;
using Platform.Models.Errors;

namespace Platform.Engines.Pipeline;

/// <summary>Runs every FluentValidation validator of a command before its handler and refuses it with the failing fields named.</summary>
/// <remarks>A command without validators passes straight to its handler, and a valid one allocates no list of failures (ADR 0812).</remarks>
internal sealed class ValidationBehavior<TRequest, TResponse>(IEnumerable<IValidator<TRequest>> validators)
    : IPipelineBehavior<TRequest, TResponse>
{
    public Task<TResponse> Handle(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next) =>
        validators is ICollection<IValidator<TRequest>> { Count: 0 } ? next() : ValidateAsync(request, cancellationToken, next);

    private async Task<TResponse> ValidateAsync(TRequest request, CancellationToken cancellationToken, RequestHandlerDelegate<TResponse> next)
    {
        List<FluentValidation.Results.ValidationFailure>? failures = null;
        foreach (var validator in validators)
        {
            var result = await validator.ValidateAsync(request, cancellationToken);
            if (result.Errors.Count > 0)
            {
                (failures ??= []).AddRange(result.Errors);
            }
        }
        if (failures is not null)
        {
            throw new ValidationFailedException(failures
                .GroupBy(f => f.PropertyName)
                .ToDictionary(g => g.Key, g => g.Select(f => f.ErrorMessage).Distinct().ToArray()));
        }
        return await next();
    }
}
