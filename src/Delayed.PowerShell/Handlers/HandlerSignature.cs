using System;
using System.Collections.Generic;
using System.Linq;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace Delayed.PowerShell.Handlers;

/// <summary>
/// The parameters a handler declares, read from its definition (never by running it), so that a task's
/// arguments can be checked before the call: a missing mandatory parameter must be a bad call, not a prompt.
/// </summary>
internal sealed class HandlerSignature
{
    private static readonly HashSet<string> CommonParameters = new(
        Cmdlet.CommonParameters.Concat(Cmdlet.OptionalCommonParameters), StringComparer.OrdinalIgnoreCase);

    private HandlerSignature(IReadOnlyList<Parameter> parameters, bool isAdvanced)
    {
        Parameters = parameters;
        IsAdvanced = isAdvanced;
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Advanced handlers ([CmdletBinding()] or [Parameter()]) refuse unknown named parameters.</summary>
    public bool IsAdvanced { get; }

    public static HandlerSignature Of(ScriptBlock scriptBlock)
    {
        var ast = (ScriptBlockAst)scriptBlock.Ast;
        var block = ast.ParamBlock;
        if (block is null) return new HandlerSignature(Array.Empty<Parameter>(), false);
        var parameters = block.Parameters.Select(p => new Parameter(p.Name.VariablePath.UserPath, IsMandatory(p))).ToList();
        var advanced = block.Attributes.Any(a => Is(a.TypeName, "CmdletBinding"))
            || block.Parameters.Any(p => p.Attributes.OfType<AttributeAst>().Any(a => Is(a.TypeName, "Parameter")));
        return new HandlerSignature(parameters, advanced);
    }

    public static HandlerSignature Of(CommandInfo command)
    {
        var parameters = command.Parameters.Values
            .Where(p => !CommonParameters.Contains(p.Name))
            .Select(p => (Meta: p, Position: p.ParameterSets.Values.Select(s => s.Position).DefaultIfEmpty(int.MinValue).Max()))
            .OrderBy(p => p.Position < 0 ? int.MaxValue : p.Position)
            .Select(p => new Parameter(p.Meta.Name, p.Meta.ParameterSets.Count > 0 && p.Meta.ParameterSets.Values.All(s => s.IsMandatory)))
            .ToList();
        var advanced = command is CmdletInfo || (command is FunctionInfo function && function.CmdletBinding);
        return new HandlerSignature(parameters, advanced);
    }

    /// <summary>Throws <see cref="Core.Worker.TaskBindingException"/> when the arguments cannot bind.</summary>
    public void Check(string taskName, int positionalCount, ICollection<string> names)
    {
        var byName = new HashSet<string>(names, StringComparer.OrdinalIgnoreCase);
        if (IsAdvanced)
        {
            foreach (var name in names)
            {
                if (!Parameters.Any(p => string.Equals(p.Name, name, StringComparison.OrdinalIgnoreCase)))
                    throw new Core.Worker.TaskBindingException($"Task '{taskName}' names a parameter '{name}' that its handler does not declare. Declared: {Describe()}.");
            }
        }
        var filledByPosition = Parameters.Where(p => !byName.Contains(p.Name)).Take(positionalCount).Select(p => p.Name);
        var bound = new HashSet<string>(byName.Concat(filledByPosition), StringComparer.OrdinalIgnoreCase);
        var missing = Parameters.FirstOrDefault(p => p.Mandatory && !bound.Contains(p.Name));
        if (missing is not null)
            throw new Core.Worker.TaskBindingException($"Task '{taskName}' gives no value for the mandatory parameter '{missing.Name}' of its handler.");
    }

    private string Describe() => Parameters.Count == 0 ? "none" : string.Join(", ", Parameters.Select(p => "-" + p.Name));

    private static bool IsMandatory(ParameterAst parameter) =>
        parameter.Attributes.OfType<AttributeAst>().Where(a => Is(a.TypeName, "Parameter")).Any(a => a.NamedArguments.Any(n =>
            string.Equals(n.ArgumentName, "Mandatory", StringComparison.OrdinalIgnoreCase)
            && (n.ExpressionOmitted || !IsFalse(n.Argument))));

    private static bool IsFalse(ExpressionAst expression) =>
        expression is VariableExpressionAst { VariablePath.UserPath: var name } && string.Equals(name, "false", StringComparison.OrdinalIgnoreCase)
        || expression is ConstantExpressionAst { Value: 0 or false };

    private static bool Is(ITypeName typeName, string name) =>
        string.Equals(typeName.Name, name, StringComparison.OrdinalIgnoreCase)
        || string.Equals(typeName.Name, name + "Attribute", StringComparison.OrdinalIgnoreCase)
        || typeName.FullName.EndsWith("." + name, StringComparison.OrdinalIgnoreCase)
        || typeName.FullName.EndsWith("." + name + "Attribute", StringComparison.OrdinalIgnoreCase);

    internal sealed class Parameter
    {
        public Parameter(string name, bool mandatory)
        {
            Name = name;
            Mandatory = mandatory;
        }

        public string Name { get; }
        public bool Mandatory { get; }
    }
}
