using System.Text.Json;
using TrigramLens.Training;

namespace TrigramLens.Tests.Training;

public class LearningRateScheduleTests
{
    [Fact]
    public void Linear_per_epoch_is_ARENAs_formula()
    {
        var arena = new LinearPerEpochSchedule(1e-3, 1e-4, 100);
        for (int e = 0; e < 100; e++)
            Assert.Equal(1e-3 + (1e-4 - 1e-3) * (e + 1) / 100, arena.At(e, 12345, 99999), 15);
        Assert.Equal(1e-4, arena.At(99, 0, 1), 15);
    }

    [Fact]
    public void Warmup_cosine_rises_linearly_peaks_and_ends_at_the_final_fraction()
    {
        var s = new WarmupCosineSchedule(1e-2, 10, 0.05);
        const long total = 111;   // 10 warm-up steps, then 100 steps of decay
        Assert.Equal(1e-3, s.At(0, 0, total), 12);
        Assert.Equal(5e-3, s.At(0, 4, total), 12);
        Assert.Equal(1e-2, s.At(0, 10, total), 12);
        Assert.Equal(1e-2 * (0.05 + 0.95 * 0.5), s.At(0, 60, total), 12);
        Assert.Equal(5e-4, s.At(0, 110, total), 12);
        for (long step = 11; step < total; step++) Assert.True(s.At(0, step, total) < s.At(0, step - 1, total));
    }

    [Fact]
    public void Schedules_round_trip_through_JSON_with_their_kind()
    {
        LearningRateSchedule[] schedules = [new LinearPerEpochSchedule(1e-3, 1e-4, 100), new WarmupCosineSchedule(1e-2, 100, 0.05)];
        foreach (var s in schedules)
        {
            string json = JsonSerializer.Serialize(s);
            Assert.Contains("\"kind\"", json);
            Assert.Equal(s, JsonSerializer.Deserialize<LearningRateSchedule>(json));
        }
    }
}
