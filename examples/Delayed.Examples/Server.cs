using System.Collections.Generic;

namespace Delayed.Examples;

/// <summary>A plain class a task can carry, as a map of its properties or an array of them in this order.</summary>
public sealed class Server
{
    public string Name { get; set; } = "";
    public int Port { get; set; }
    public List<string> Tags { get; set; } = new List<string>();
}
